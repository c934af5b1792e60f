// The peer of bench/web.py: Vercel's resumable-stream (npm), as its README uses it, on
// the Redis at $REDIS_URL. Not a benchmark by itself; bench/web.py installs the package
// in $OUTSTREAM_BENCH_MODULES (outside the repository) and runs this with node.
//
//   node _resumable_stream.mjs produce ID   the producer: createNewResumableStream(ID)
//       over its stdin (each chunk one SSE event), the first reader's stream read here;
//       says "ready" once the stream exists, exits once it is done.
//   node _resumable_stream.mjs serve        an http server of readers on a free loopback
//       port ("listening PORT"): GET /resume/ID?skip=N is resumeExistingStream(ID, N)
//       piped to the response, with back-pressure.
import { once } from "node:events";
import http from "node:http";
import { createRequire } from "node:module";
import path from "node:path";

const require = createRequire(path.join(process.env.OUTSTREAM_BENCH_MODULES, "package.json"));
const { createResumableStreamContext } = require("resumable-stream");

const [mode, id] = process.argv.slice(2);
const finished = [];
const context = createResumableStreamContext({
  keyPrefix: "bench",
  waitUntil: (promise) => finished.push(promise),
});

if (mode === "produce") {
  const stream = await context.createNewResumableStream(id, () => {
    return new ReadableStream({
      start(controller) {
        process.stdin.setEncoding("utf8");
        process.stdin.on("data", (text) => {
          controller.enqueue(`data: ${JSON.stringify({ text })}\n\n`);
        });
        process.stdin.on("end", () => controller.close());
      },
    });
  });
  console.log("ready");
  for await (const _ of stream) {
    // the request that started the answer reads it
  }
  await Promise.all(finished);
  process.exit(0);
} else if (mode === "serve") {
  const server = http.createServer(async (req, res) => {
    const url = new URL(req.url, "http://localhost");
    const match = url.pathname.match(/^\/resume\/([^/]+)$/);
    if (!match) {
      res.writeHead(404).end();
      return;
    }
    let stream;
    try {
      stream = await context.resumeExistingStream(match[1], Number(url.searchParams.get("skip") || 0));
    } catch (error) {
      res.writeHead(500, { "Content-Type": "text/plain" }).end(String(error.message));
      return;
    }
    if (!stream) {
      res.writeHead(stream === null ? 422 : 404).end(stream === null ? "done" : "no stream");
      return;
    }
    res.writeHead(200, { "Content-Type": "text/event-stream", "Cache-Control": "no-store" });
    const gone = once(res, "close");
    const reader = stream.getReader();
    try {
      while (true) {
        const { done, value } = await Promise.race([reader.read(), gone.then(() => ({ done: true }))]);
        if (done || res.destroyed) break;
        if (!res.write(value)) await Promise.race([once(res, "drain"), gone]);
      }
    } finally {
      reader.cancel().catch(() => {});
      res.end();
    }
  });
  server.listen(0, "127.0.0.1", () => console.error(`listening ${server.address().port}`));
} else {
  console.error("usage: _resumable_stream.mjs produce ID | serve");
  process.exit(2);
}
