import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import type { Gateway } from "../core/index.js";
import type { Dialect, DialectRoute, DialectServices } from "../dialects/index.js";

/**
 * Mounts the route tables of `dialects` on the app. A path more than one dialect serves (GET
 * /v1/models, OpenAI's and Anthropic's) is mounted once and answered by the first of them (in
 * `dialects`' order) that claims the request, else by the last.
 */
export function mountDialects(
  app: FastifyInstance,
  dialects: readonly Dialect[],
  gateway: Gateway,
  services: DialectServices,
): void {
  const shared = new Map<string, { dialect: Dialect; route: DialectRoute }[]>();
  for (const dialect of dialects) {
    for (const route of dialect.routes(gateway, services)) {
      const key = `${route.method} ${route.url}`;
      const claimants = shared.get(key);
      if (claimants) claimants.push({ dialect, route });
      else shared.set(key, [{ dialect, route }]);
    }
  }
  for (const claimants of shared.values()) {
    const first = claimants[0];
    if (!first) continue;
    if (claimants.length === 1) {
      mountRoute(app, first.route);
      continue;
    }
    const last = claimants.at(-1) ?? first;
    mountRoute(app, {
      ...first.route,
      handler: (request: FastifyRequest, reply: FastifyReply) =>
        (claimants.find((c) => c.dialect.speaks(request)) ?? last).route.handler(request, reply),
    });
  }
}

function mountRoute(app: FastifyInstance, route: DialectRoute): void {
  const { rawBody } = route;
  if (rawBody === undefined) {
    app.route({ method: route.method, url: route.url, handler: route.handler });
    return;
  }
  // Its own scope, so the raw body reaches the handler unparsed (the app parses JSON only).
  app.register(async (scope) => {
    scope.removeAllContentTypeParsers();
    scope.addContentTypeParser("*", (request, _payload, done) => {
      done(rawBody(request.headers["content-type"]) ?? null);
    });
    scope.route({ method: route.method, url: route.url, handler: route.handler });
  });
}
