import type { Gateway, KeptAlive, ModelLibrary } from "../../src/core/index.js";
import { GatewayError } from "../../src/core/index.js";

/**
 * The local-engine part of the Gateway for stub gateways in dialect tests, which have no engine:
 * nothing loaded, keep_alive only resolves the name, and a pull is not part of those tests.
 */
export const noLocalEngine = {
  async pull(): Promise<never> {
    throw new Error("not in this test");
  },
  loadedModels(): ReturnType<Gateway["loadedModels"]> {
    return [];
  },
  modelLibrary(): ModelLibrary {
    throw new GatewayError("unavailable", "No local engine in this test", { retryable: false });
  },
  async keepAlive(this: Pick<Gateway, "model">, name: string): Promise<KeptAlive> {
    return { entry: await this.model(name) };
  },
};
