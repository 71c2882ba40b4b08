export { openApiDocument, describeRoutes, openApiPath, type AppRoute } from './document';
export { docsPage } from './docs-page';
export { OPERATIONS, type OperationDoc } from './operations';
export { openApiRoutes } from './openapi-routes';
