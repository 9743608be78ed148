/** The HTTP process and composition root: routing, the click and beacon fast paths, health, graceful stop; it builds the services and starts the jobs. */
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
