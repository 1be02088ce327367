/** The API's OpenAPI 3.1 description, served at /api/openapi.json. */
const error = { $ref: '#/components/schemas/Error' };
const json = (schema: unknown) => ({ content: { 'application/json': { schema } } });
const limit = { name: 'limit', in: 'query', schema: { type: 'integer', minimum: 1, maximum: 1000, default: 100 } };

export const OPENAPI = {
  openapi: '3.1.0',
  info: { title: 'crm profile API', version: '1', description: 'Profiles, scores, segments and risk state computed by the pipeline (docs/METRICS.md).' },
  security: [{ bearer: [] }, { token: [] }],
  components: {
    securitySchemes: {
      bearer: { type: 'http', scheme: 'bearer', description: 'CRM_WEB_TOKEN' },
      token: { type: 'apiKey', in: 'query', name: 'token', description: 'CRM_WEB_TOKEN' },
    },
    schemas: {
      Error: { type: 'object', required: ['error', 'message'], properties: { error: { type: 'string' }, message: { type: 'string' } } },
      Customer: {
        type: 'object',
        required: ['customer_id', 'profile', 'scores', 'segments', 'risk'],
        properties: {
          customer_id: { type: 'string' },
          profile: { type: 'object', description: 'customer_profiles columns: purchases, revenue, engagement, service' },
          scores: { type: 'object', description: 'RFM, p_alive, churn_probability, clv_12m … of the latest scoring' },
          segments: { type: 'object', properties: { rfm: { type: 'string' }, lifecycle: { type: 'string' }, tier: { type: ['string', 'null'] } } },
          risk: {
            type: 'object',
            required: ['at_risk'],
            properties: { at_risk: { type: 'boolean' }, since: { type: 'string' }, drivers: { type: 'array', items: { type: 'string' } }, churn_probability: { type: ['number', 'null'] }, clv_12m: { type: ['number', 'null'] }, alerted: { type: 'boolean' } },
          },
          updated_at: { type: 'string' },
        },
      },
    },
  },
  paths: {
    '/api/customers/{id}': {
      get: {
        summary: "One customer's profile, scores, current segments and risk state",
        parameters: [{ name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        responses: { 200: json({ $ref: '#/components/schemas/Customer' }), 400: json(error), 401: json(error), 404: json(error) },
      },
    },
    '/api/segments/{type}/{name}/customers': {
      get: {
        summary: "A segment's members by customer_id, paged: pass the answer's next_cursor as cursor",
        parameters: [
          { name: 'type', in: 'path', required: true, schema: { type: 'string', enum: ['rfm', 'lifecycle', 'tier'] } },
          { name: 'name', in: 'path', required: true, schema: { type: 'string' }, example: 'champions' },
          { name: 'cursor', in: 'query', schema: { type: 'string' } },
          limit,
        ],
        responses: {
          200: json({ type: 'object', properties: { type: { type: 'string' }, name: { type: 'string' }, customers: { type: 'array', items: { type: 'object' } }, next_cursor: { type: ['string', 'null'] } } }),
          400: json(error), 401: json(error), 404: json(error),
        },
      },
    },
    '/api/at-risk': {
      get: {
        summary: 'Customers now at risk, with drivers, CLV and last purchase',
        parameters: [
          { name: 'sort', in: 'query', schema: { type: 'string', enum: ['clv', 'churn', 'since', 'last_purchase'], default: 'clv' } },
          { name: 'order', in: 'query', schema: { type: 'string', enum: ['asc', 'desc'], default: 'desc' } },
          { name: 'offset', in: 'query', schema: { type: 'integer', minimum: 0, default: 0 } },
          limit,
        ],
        responses: { 200: json({ type: 'object', properties: { customers: { type: 'array', items: { type: 'object' } } } }), 400: json(error), 401: json(error) },
      },
    },
    '/api/health': {
      get: { summary: 'Whether ClickHouse answers', security: [], responses: { 200: json({ type: 'object' }), 503: json({ type: 'object' }) } },
    },
  },
} as const;
