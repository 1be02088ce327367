# One image for every service and the CLI; the command picks which runs.
FROM node:24-bookworm-slim
WORKDIR /app
RUN npm install -g pnpm@9.15.9
COPY . .
# The embedded ClickHouse (chDB) is not needed where a ClickHouse server runs beside the services.
RUN pnpm install --frozen-lockfile --filter '!@crm/clickhouse-host'
ENV NODE_ENV=production
CMD ["node", "--import", "tsx", "services/ingest/src/main.ts"]
