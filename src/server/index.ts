/** The face of src/server/: see ./server.ts. */
export {
  createLogger,
  errorFields,
  type JsonResponse,
  type LogFields,
  type Logger,
  type Method,
  openConfiguredDatabase,
  type RequestContext,
  type Route,
  type RunningServer,
  type ServerOptions,
  startServer,
} from './server.js';
