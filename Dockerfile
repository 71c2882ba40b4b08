# syntax=docker/dockerfile:1
# T-Developer Core: one image for the session worker (default command) and the HTTP API
# (`node dist/api/main.js`); docker-compose.temporal.yml runs both.
#   build    — npm ci, then `npm run build`: tsc to dist/ and the workflow bundle
#              dist/workflow-bundle.js, so workers start without bundling (WORKFLOW_BUNDLE_PATH)
#   runtime  — production dependencies and dist/ only, as the unprivileged `node` user
# Node 20.20.2 is the version the test suite runs on; @temporalio/worker's native core needs glibc
# (Debian slim, not Alpine).
ARG NODE_IMAGE=node:20.20.2-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY core ./core
COPY workflows ./workflows
COPY activities ./activities
COPY models ./models
COPY media ./media
COPY workers ./workers
COPY api ./api
COPY cli ./cli
COPY runtime ./runtime
COPY infra ./infra
RUN npm run build

FROM ${NODE_IMAGE} AS production-dependencies
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    WORKFLOW_BUNDLE_PATH=/app/dist/workflow-bundle.js \
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED=true
WORKDIR /app
COPY --from=production-dependencies /app/node_modules ./node_modules
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/dist ./dist
USER node
CMD ["node", "dist/workers/main.js"]
