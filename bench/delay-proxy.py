#!/usr/bin/python3
"""bench/delay-proxy.py DELAY_MS LISTEN_PORT:TARGET_PORT [...]

A userspace delay line on 127.0.0.1 for the RTT figure when the kernel has no
netem (CONFIG_NET_SCH_NETEM unset): every chunk read on one side is written to
the other side DELAY_MS later, in order, in both directions, so a connection
through it sees a round trip of 2 x DELAY_MS on top of loopback. Buffering is
unbounded (an ideal long fat pipe): what limits throughput is the protocol's
own windows, which is what the figure is about. Runs until killed."""
import asyncio
import sys
import time

DELAY = float(sys.argv[1]) / 1000.0
CHUNK = 256 * 1024


async def pipe(reader, writer):
    q = asyncio.Queue()

    async def sender():
        while True:
            due, data = await q.get()
            if data is None:
                break
            wait = due - time.monotonic()
            if wait > 0:
                await asyncio.sleep(wait)
            writer.write(data)
            await writer.drain()
        try:
            writer.write_eof()
        except (OSError, RuntimeError):
            pass

    task = asyncio.ensure_future(sender())
    try:
        while True:
            data = await reader.read(CHUNK)
            if not data:
                break
            q.put_nowait((time.monotonic() + DELAY, data))
    except OSError:
        pass
    q.put_nowait((time.monotonic() + DELAY, None))
    try:
        await task
    except OSError:
        pass


def handler(target_port):
    async def handle(cr, cw):
        try:
            tr, tw = await asyncio.open_connection("127.0.0.1", target_port)
        except OSError:
            cw.close()
            return
        await asyncio.gather(pipe(cr, tw), pipe(tr, cw), return_exceptions=True)
        cw.close()
        tw.close()

    return handle


async def main():
    servers = []
    for spec in sys.argv[2:]:
        lp, tp = (int(x) for x in spec.split(":"))
        servers.append(await asyncio.start_server(handler(tp), "127.0.0.1", lp))
    print("ready", flush=True)
    await asyncio.gather(*(s.serve_forever() for s in servers))


asyncio.run(main())
