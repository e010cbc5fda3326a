import { defineModule } from '../module';
import { healthRoutes } from './health.routes';

/** Liveness and readiness at /healthz and /readyz. */
export const healthModule = defineModule({
  name: 'health',
  routes: async (scope, { infra }) => scope.register(healthRoutes, { db: infra.db, kv: infra.kv }),
});
