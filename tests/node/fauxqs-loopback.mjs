// Starts fauxqs (an SQS emulator speaking the JSON protocol) on 127.0.0.1
// only: its own startFauxqs() binds 0.0.0.0. Usage: node fauxqs-loopback.mjs PORT
// Prints "listening PORT" once ready; stops on SIGTERM.
import { buildApp } from "fauxqs";

const port = parseInt(process.argv[2] ?? "0", 10);
const app = buildApp({ logger: false });
const address = await app.listen({ port, host: "127.0.0.1" });
console.log(`listening ${new URL(address).port}`);
process.on("SIGTERM", async () => {
  await app.close();
  process.exit(0);
});
