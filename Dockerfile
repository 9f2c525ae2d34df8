# syntax=docker/dockerfile:1
# One image for the api, worker and migrate services (the command picks the process). They run the
# compiled JavaScript of `npm run build` with plain node (no TypeScript loader), and the worker loads
# the workflow bundle that build wrote (dist/workflow-bundle.js) instead of bundling at every start.

FROM node:22.23.5-bookworm-slim AS deps
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --omit=dev

FROM node:22.23.5-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci
COPY tsconfig.json tsconfig.build.json knexfile.ts ./
COPY src ./src
COPY workflows ./workflows
COPY activities ./activities
COPY migrations ./migrations
# tsc, then the workflow bundle (fails the image build if the workflow code cannot be bundled)
RUN npm run build && test -s dist/workflow-bundle.js

FROM node:22.23.5-bookworm-slim AS runtime
ENV NODE_ENV=production PORT=8000 UPLOAD_DIR=/app/uploads
WORKDIR /app
COPY --from=deps /app/node_modules ./node_modules
COPY --from=build /app/dist ./dist
COPY package.json ./
RUN mkdir -p /app/uploads && chown node:node /app/uploads
USER node
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=20s \
  CMD node -e "fetch('http://127.0.0.1:'+(process.env.PORT||8000)+'/api/v1/health').then(r=>process.exit(r.ok?0:1),()=>process.exit(1))"
CMD ["node", "dist/src/main/api.js"]
