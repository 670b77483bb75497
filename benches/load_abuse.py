"""Holds hostile connections open against a server, reconnecting whatever
it closes, until the time is up:

  idle     connect and send nothing
  trickle  send a request head one byte a second
  body     send a PUT's head, then its body one byte every 5 s

Usage: python3 load_abuse.py HOST PORT SECONDS IDLE TRICKLE BODIES
Prints "ready" once every connection is open, and at the end one JSON line:
connections opened and closed by the server, per kind.
"""
import asyncio
import json
import sys

host, port, seconds = sys.argv[1], int(sys.argv[2]), float(sys.argv[3])
counts = {"idle": int(sys.argv[4]), "trickle": int(sys.argv[5]), "body": int(sys.argv[6])}
opened = {kind: 0 for kind in counts}
closed = {kind: 0 for kind in counts}
first_open = asyncio.Event()
pending = sum(counts.values())


async def session(kind, n, ready):
    global pending
    first = True
    while True:
        try:
            reader, writer = await asyncio.open_connection(host, port)
        except OSError:
            await asyncio.sleep(0.5)
            continue
        opened[kind] += 1
        if first:
            first = False
            pending -= 1
            if pending == 0:
                ready.set()
        try:
            if kind == "idle":
                await reader.read(1)
            elif kind == "trickle":
                head = f"PUT /files/trickle-{n} HTTP/1.1\r\nHost: {host}\r\nX-Slow: "
                head = head.encode() + b"a" * 10_000
                for byte in head:
                    writer.write(bytes([byte]))
                    await writer.drain()
                    read = asyncio.ensure_future(reader.read(1))
                    done, _ = await asyncio.wait([read], timeout=1)
                    if done:
                        break
                    read.cancel()
            else:
                writer.write(
                    f"PUT /files/slow/body-{n}.bin HTTP/1.1\r\nHost: {host}\r\n"
                    f"Content-Length: 1000000\r\n\r\n".encode()
                )
                await writer.drain()
                while True:
                    writer.write(b"x")
                    await writer.drain()
                    read = asyncio.ensure_future(reader.read(1))
                    done, _ = await asyncio.wait([read], timeout=5)
                    if done:
                        break
                    read.cancel()
        except OSError:
            pass
        closed[kind] += 1
        writer.close()


async def main():
    ready = asyncio.Event()
    tasks = [
        asyncio.ensure_future(session(kind, n, ready))
        for kind, count in counts.items()
        for n in range(count)
    ]
    await asyncio.wait_for(ready.wait(), 60)
    print("ready", flush=True)
    await asyncio.sleep(seconds)
    for task in tasks:
        task.cancel()
    print(json.dumps({"opened": opened, "closed_by_server": closed}), flush=True)


asyncio.run(main())
