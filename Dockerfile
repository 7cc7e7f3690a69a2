# One image for every role: ROLE=web, ROLE=worker or ROLE=all (default).
FROM node:22-bookworm-slim

# git clones and pushes; ripgrep is required by opencode's grep and glob tools (it would
# otherwise try to download it at run time); bubblewrap confines the local sandbox (it needs
# user namespaces: see the README for the seccomp profile Docker needs); tini reaps the
# sandbox's child processes.
RUN apt-get update \
 && apt-get install -y --no-install-recommends git ripgrep bubblewrap ca-certificates tini \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY package.json package-lock.json ./
# The opencode binary ships inside the opencode-linux-x64 package (an optional dependency).
RUN npm ci --omit=dev --no-audit --no-fund
COPY app.yml drizzle.config.ts ./
COPY migrations ./migrations
COPY src ./src

ENV NODE_ENV=production \
    DATA_DIR=/data \
    OPENCODE_DISABLE_MODELS_FETCH=1
RUN useradd --create-home --uid 10001 agent && mkdir -p /data && chown agent:agent /data
USER agent
VOLUME /data
EXPOSE 3000
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "src/main.ts"]
