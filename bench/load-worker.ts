/**
 * Worker-thread entry: runs the scenarios one after another against the
 * server in the main thread and posts each result back as it finishes.
 */
import { parentPort, workerData } from "node:worker_threads";
import { runScenario, type LoadInput, type LoadMessage } from "./load.js";

const port = parentPort;
if (!port) throw new Error("load-worker.ts must run in a worker thread");
const post = (message: LoadMessage) => port.postMessage(message);

async function main(input: LoadInput) {
  const host = new URL(input.baseUrl).hostname;
  if (host !== "127.0.0.1") throw new Error(`the benchmark only sends traffic to 127.0.0.1, not ${host}`);
  for (const scenario of input.scenarios) {
    post({ type: "result", result: await runScenario(input, scenario) });
  }
  post({ type: "done" });
}

main(workerData as LoadInput).catch((error: unknown) => {
  post({ type: "failed", error: error instanceof Error ? (error.stack ?? error.message) : String(error) });
});
