# One image with PyBullet, DART, MuJoCo and torch (CPU by default); entrypoint `simmatch`.
FROM python:3.11-slim

ARG TORCH_INDEX=https://download.pytorch.org/whl/cpu
ENV PYTHONUNBUFFERED=1 MPLBACKEND=Agg

# GL/X libraries so that engine GUIs can open on the host's X server (see README).
RUN apt-get update && apt-get install -y --no-install-recommends \
        libgl1 libglib2.0-0 libx11-6 libxext6 libxrender1 libxi6 libxrandr2 libxcursor1 libxinerama1 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
RUN pip install --no-cache-dir torch==2.13.0 --index-url "${TORCH_INDEX}"
COPY pyproject.toml README.md ./
COPY simmatch ./simmatch
COPY gail ./gail
COPY cli ./cli
COPY assets ./assets
RUN pip install --no-cache-dir ".[learn,render]" && simmatch info
COPY tests ./tests
COPY benchmarks ./benchmarks
RUN mkdir -p reports

ENTRYPOINT ["simmatch"]
CMD ["--help"]
