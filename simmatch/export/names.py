"""Names an MJCF has no element for, kept in MJCF `<custom><text>` entries by `simmatch export`
so that a URDF -> MJCF -> URDF round trip gives the URDF's names back.

MJCF has no fixed joint (a body without a joint is welded to its parent) and no massless moving
body (simmatch's MuJoCo build merges a chain of massless links into one body with several joints).
Read without these entries, `simmatch.mjcf` names a welded body's joint `<body>_fixed` and a merged
link `<joint>_link`; with them it uses the names written here:

- `simmatch:fixed_joint:<body>` = the name of the fixed joint that welds `<body>` to its parent;
- `simmatch:link:<joint>` = the name of the massless link below `<joint>` that was merged.

MuJoCo keeps custom text entries through compile and `MjSpec.to_xml` (measured, mujoco 4.0); other
readers ignore them.
"""

from __future__ import annotations

from typing import Any

import mujoco

FIXED_JOINT = "simmatch:fixed_joint:"
MERGED_LINK = "simmatch:link:"


def add_name(spec: Any, prefix: str, key: str, value: str) -> None:
    """Record `value` under `prefix + key` in `spec`'s custom text (MuJoCo needs a non-empty name
    and data; an empty value is not written)."""
    if value:
        spec.add_text(name=f"{prefix}{key}", data=value)


def kept_names(m: Any, prefix: str) -> dict[str, str]:
    """key -> name of the compiled model `m`'s custom text entries named `prefix + key`."""
    out: dict[str, str] = {}
    data = bytes(m.text_data)
    for i in range(int(m.ntext)):
        name = mujoco.mj_id2name(m, mujoco.mjtObj.mjOBJ_TEXT, i) or ""
        if name.startswith(prefix) and len(name) > len(prefix):
            adr, size = int(m.text_adr[i]), int(m.text_size[i])
            value = data[adr:adr + size].split(b"\0", 1)[0].decode("utf-8", "replace")
            if value:
                out[name[len(prefix):]] = value
    return out
