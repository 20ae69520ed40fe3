#!/usr/bin/env python3
"""Flower's SecAgg+ on the sizes of `veil-bench secagg`, printed in the same units.

Runs Flower's own SecAgg+ code unchanged: the server side is `flwr`'s `SecAggPlusWorkflow`, the
client side its `secaggplus_mod`. Flower normally connects the two through a SuperLink (gRPC) or its
simulation engine; neither can be timed per side, so this script drives them through a minimal
in-process `Grid` (`LoopbackGrid` below) that hands each server message to the addressed client's
mod and returns the replies. Nothing of the protocol is re-implemented here.

What is measured, per (n, dropout rate), with Veil's parameters (k = 2*ceil(log2 n) + 2 neighbours,
so Flower's `num_shares` = k + 1, `reconstruction_threshold` = t = (k + 1)//2 + 1; modulus 2^32):
- secagg_client_s_per_client: time inside the clients' mod calls, divided by n;
- secagg_server_s: the workflow's wall time minus the clients' time (it includes the Strategy's
  FedAvg dequantisation and averaging, which Flower does inside the workflow);
- secagg_client_bytes_sent: mean serialised size (Flower's protobuf `message_to_proto`) of what a
  client sends;
- plain_sum_s: numpy's sum of the same n float32 vectors, and the server's ratio to it.
Dropouts: half the dropped clients stop before sending their masked vector, half before unmasking,
as in Veil's benchmark.

Differences that remain: Flower quantises floats and masks a weight element in addition to the
vector; its Shamir sharing is pycryptodome's over GF(2^128); its PRG is numpy's generator seeded by
the shared secret. The figures compare the two systems as shipped, not identical work.

Usage (the venv lives under .build/, made on first use):
    python3 scripts/secagg_reference.py [--clients 100,1000] [--parameters 100000] [--dropouts 0,0.1]
"""

import argparse
import json
import math
import os
import subprocess
import sys
import time

VENV = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".build", "secagg-venv")
FLWR_VERSION = "1.42.0"


def ensure_venv() -> None:
    """Re-run this script inside .build/secagg-venv with flwr installed."""
    python = os.path.join(VENV, "bin", "python")
    if os.path.abspath(sys.prefix) == os.path.abspath(VENV):
        return
    if not os.path.exists(python):
        subprocess.run([sys.executable, "-m", "venv", VENV], check=True)
    check = subprocess.run([python, "-c", "import flwr"], capture_output=True)
    if check.returncode != 0:
        subprocess.run([python, "-m", "pip", "install", "-q", f"flwr=={FLWR_VERSION}"], check=True)
    os.execv(python, [python] + sys.argv)


def run(clients: int, parameters: int, dropout: float, seed: int) -> dict:
    import numpy as np
    from flwr.app import Message, RecordDict, ConfigRecord
    from flwr.common import Code, Context, FitRes, Status, ndarrays_to_parameters
    from flwr.common.serde import message_from_proto, message_to_proto
    from flwr.proto.message_pb2 import Message as ProtoMessage
    from flwr.compat.common import recorddict_compat as compat
    from flwr.client.mod.secure_aggregation.secaggplus_mod import secaggplus_mod
    from flwr.common.secure_aggregation.secaggplus_constants import RECORD_KEY_CONFIGS, Key, Stage
    from flwr.server.client_manager import SimpleClientManager
    from flwr.server.compat.grid_client_proxy import GridClientProxy
    from flwr.server.compat.legacy_context import LegacyContext
    from flwr.server.strategy import FedAvg
    from flwr.server.workflow.constant import MAIN_CONFIGS_RECORD, MAIN_PARAMS_RECORD, Key as WorkflowKey
    from flwr.server.workflow.secure_aggregation.secaggplus_workflow import SecAggPlusWorkflow
    from flwr.serverapp.grid import Grid

    from flwr.supercore.task_identity import TaskIdentity

    # Flower reads the run and the sending node from the process's task identity (set by its
    # SuperLink / simulation runtime); one run, the server as node 0.
    TaskIdentity.run_id, TaskIdentity.node_id, TaskIdentity.task_id = 1, 0, 1
    rng = np.random.default_rng(seed)
    node_ids = list(range(1, clients + 1))
    updates = {nid: rng.uniform(-1, 1, parameters).astype(np.float32) for nid in node_ids}
    order = list(node_ids)
    rng.shuffle(order)
    dropped = order[: round(clients * dropout)]
    drop_at = {nid: (Stage.COLLECT_MASKED_VECTORS if i % 2 == 0 else Stage.UNMASK) for i, nid in enumerate(dropped)}

    def fit(msg: Message, ctxt: Context) -> Message:
        nid = msg.metadata.dst_node_id
        res = FitRes(Status(Code.OK, ""), ndarrays_to_parameters([updates[nid]]), 1, {})
        return Message(compat.fitres_to_recorddict(res, keep_input=True), reply_to=msg)

    contexts = {nid: Context(run_id=1, node_id=nid, node_config={}, state=RecordDict(), run_config={}) for nid in node_ids}
    figures = {"client_s": 0.0, "client_bytes": {nid: 0 for nid in node_ids}}

    class LoopbackGrid(Grid):
        """Hands each message to the addressed client's SecAgg+ mod, in process."""

        def set_run(self, run) -> None:  # noqa: D102
            pass

        @property
        def run(self):  # noqa: D102
            return None

        def create_message(self, *args, **kwargs):  # noqa: D102
            raise NotImplementedError

        def get_node_ids(self):  # noqa: D102
            return list(node_ids)

        def push_messages(self, messages):  # noqa: D102
            raise NotImplementedError

        def pull_messages(self, message_ids):  # noqa: D102
            raise NotImplementedError

        def send_and_receive(self, messages, *, timeout=None):  # noqa: D102
            replies = []
            for msg in messages:
                nid = msg.metadata.dst_node_id
                stage = msg.content.config_records[RECORD_KEY_CONFIGS][Key.STAGE]
                if drop_at.get(nid) == stage:
                    continue
                # Through Flower's wire format, as over gRPC: the client gets its own copy (the
                # workflow shares one content object between messages, which the mod modifies).
                delivered = message_from_proto(ProtoMessage.FromString(message_to_proto(msg).SerializeToString()))
                start = time.perf_counter()
                reply = secaggplus_mod(delivered, contexts[nid], fit)
                wire = message_to_proto(reply).SerializeToString()
                figures["client_s"] += time.perf_counter() - start
                figures["client_bytes"][nid] += len(wire)
                replies.append(message_from_proto(ProtoMessage.FromString(wire)))
            return replies

    grid = LoopbackGrid()
    manager = SimpleClientManager()
    for nid in node_ids:
        manager.register(GridClientProxy(nid, grid, 1))
    strategy = FedAvg(fraction_fit=1.0, min_fit_clients=clients, min_available_clients=clients,
                      fraction_evaluate=0.0)
    state = RecordDict()
    state.config_records[MAIN_CONFIGS_RECORD] = ConfigRecord({WorkflowKey.CURRENT_ROUND: 1})
    state.array_records[MAIN_PARAMS_RECORD] = compat.parameters_to_arrayrecord(
        ndarrays_to_parameters([np.zeros(parameters, dtype=np.float32)]), keep_input=True)
    context = LegacyContext(Context(run_id=1, node_id=0, node_config={}, state=state, run_config={}),
                            strategy=strategy, client_manager=manager)

    k = 2 * math.ceil(math.log2(clients)) + 2
    if k >= clients - 1:
        k = clients - 1
    t = (k + 1) // 2 + 1
    workflow = SecAggPlusWorkflow(num_shares=k + 1 if k + 1 < clients else 1.0, reconstruction_threshold=t,
                                  modulus_range=2**32, quantization_range=2**22, clipping_range=8.0,
                                  max_weight=1.0)
    start = time.perf_counter()
    workflow(grid, context)
    total = time.perf_counter() - start
    # The round must really have completed: Flower's aggregate is the mean of the included updates
    # (weight 1 each, so max_weight = 1 keeps the full precision), up to its quantisation step 16/2^22.
    aggregated = compat.arrayrecord_to_parameters(context.state.array_records[MAIN_PARAMS_RECORD], keep_input=True)
    from flwr.common import parameters_to_ndarrays
    included = [updates[nid] for nid in node_ids if drop_at.get(nid) != Stage.COLLECT_MASKED_VECTORS]
    error = np.abs(parameters_to_ndarrays(aggregated)[0] - np.mean(included, axis=0)).max()
    if not error < 1e-4:
        raise RuntimeError(f"Flower's SecAgg+ round did not produce the mean of the included updates (error {error})")

    stack = np.stack([updates[nid] for nid in node_ids])
    plain = min(_timed(lambda: stack.sum(axis=0)) for _ in range(3))
    senders = [b for b in figures["client_bytes"].values() if b > 0]
    server = total - figures["client_s"]
    tag = f"n{clients}_drop{int(dropout * 100)}"
    return {
        f"flower_plain_sum_s_n{clients}": plain,
        f"flower_secagg_client_s_per_client_{tag}": figures["client_s"] / clients,
        f"flower_secagg_server_s_{tag}": server,
        f"flower_secagg_server_ratio_to_plain_{tag}": server / plain,
        f"flower_secagg_client_bytes_sent_{tag}": sum(senders) / len(senders),
    }


def _timed(body) -> float:
    start = time.perf_counter()
    body()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clients", default="100,1000")
    parser.add_argument("--parameters", type=int, default=100_000)
    parser.add_argument("--dropouts", default="0,0.1")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    ensure_venv()
    import logging
    from flwr.common.logger import FLOWER_LOGGER
    FLOWER_LOGGER.setLevel(logging.WARNING)
    result = {"area": "secagg-flower", "flwr": FLWR_VERSION}
    for n in [int(x) for x in args.clients.split(",")]:
        for rate in [float(x) for x in args.dropouts.split(",")]:
            print(f"  flower secagg+ n={n} dropout={rate}", file=sys.stderr)
            result.update(run(n, args.parameters, rate, args.seed))
    print(json.dumps(result, indent=1))


if __name__ == "__main__":
    main()
