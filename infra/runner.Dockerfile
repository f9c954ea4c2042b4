# The default sandbox runner image (droidworks/runner:bookworm-1) for hosts that can pull from a
# registry; `docker compose up` builds it (service `runner-image`). Same contents as
# scripts/build-runner-image.sh, which builds it without a registry (debootstrap).
FROM debian:bookworm-slim
RUN apt-get update \
  && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
     git nodejs npm python3 ca-certificates procps make \
  && rm -rf /var/lib/apt/lists/* \
  && useradd --uid 1000 --create-home --shell /bin/bash droid
USER 1000:1000
WORKDIR /workspace
