// The piscina worker file: one named export per kind of session, chosen by
// `name` in pool.run(). Compiled to dist/bench/sim/pool-worker.js.
export { runSenderTask as sender } from './sender-task';
export { runReceiverTask as receiver } from './receiver-task';
