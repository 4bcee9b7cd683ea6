# One image for every Summit role (api, summit, vessel, avalanche); docker-compose.yml picks the entry point.

# Build stage: compile TypeScript and the one native addon (zstd-napi) against the image's own Node.
FROM node:20-bookworm AS build
WORKDIR /app
COPY package.json package-lock.json ./
# Install scripts are off for all but the addon that needs compiling (the same set package.json's allowScripts
# approves); the other native parts (@temporalio/core-bridge, @swc/core) ship prebuilt in their packages.
RUN npm ci --ignore-scripts && npm rebuild zstd-napi
COPY . .
RUN npm run build && npm prune --omit=dev

# Runtime stage. avalanche runs recipe builds in systemd-nspawn with this image's /usr as the build root, so the
# toolchain the recipes' macros call (%configure, %make, %cmake) lives here too.
FROM node:20-bookworm
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      systemd-container git zstd ca-certificates build-essential cmake meson ninja-build pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production SUMMIT_DATA_DIR=/data
COPY --from=build /app/package.json /app/package-lock.json ./
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY --from=build /app/bin ./bin
VOLUME /data
CMD ["node", "dist/workers/summit.js"]
