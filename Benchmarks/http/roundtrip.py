#!/usr/bin/env python3
"""Message round trips through the HTTP API: each client submits an order (which starts an
instance, saved and unloaded at its idle point) and then times `POST /v1/messages?wait=idle`
approving it: the message reaches the unloaded instance, which is loaded, applies it and
completes. Prints one line: clients, count, p50 and p99 in milliseconds."""
import http.client, json, sys, threading, time

host, port, clients, per, first = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5])
latencies, failures, lock = [], [], threading.Lock()


def post(connection, body):
    connection.request("POST", "/v1/messages?wait=idle", json.dumps(body), {"Content-Type": "application/json"})
    response = connection.getresponse()
    return response.status, response.read()


def client(number):
    connection = http.client.HTTPConnection(host, port)
    for index in range(per):
        order = first + number * per + index
        status, text = post(connection, {"operation": "submit", "body": {"orderId": order}})
        if status != 200:
            with lock: failures.append(text)
            continue
        began = time.perf_counter()
        status, text = post(connection, {"operation": "approve", "body": {"orderId": order}})
        elapsed = (time.perf_counter() - began) * 1000
        with lock:
            (latencies if status == 200 else failures).append(elapsed if status == 200 else text)


threads = [threading.Thread(target=client, args=(number,)) for number in range(clients)]
for thread in threads: thread.start()
for thread in threads: thread.join()
if failures:
    sys.exit(f"{len(failures)} requests failed, the first: {failures[0][:300]}")
latencies.sort()
count = len(latencies)
print(clients, count, f"{latencies[count // 2]:.2f}", f"{latencies[min(count - 1, int(count * 0.99))]:.2f}")
