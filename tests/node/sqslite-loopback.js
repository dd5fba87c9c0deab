// Starts sqslite (an SQS emulator speaking the query protocol) on
// 127.0.0.1. Queue URLs must use "localhost" (sqslite strips only
// http://localhost:PORT/queues/). Usage: node sqslite-loopback.js PORT
'use strict';
const sqslite = require('sqslite');

const port = parseInt(process.argv[2] || '0', 10);
sqslite({}).listen({ host: '127.0.0.1', port }, (err, address) => {
  if (err) throw err;
  console.log(`listening ${new URL(address).port}`);
});
process.on('SIGTERM', () => process.exit(0));
