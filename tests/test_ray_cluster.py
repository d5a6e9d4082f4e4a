"""--engine ray on a cluster of two 1-CPU nodes (ray.cluster_utils.Cluster starts them on
this machine), against --engine local: small nodes are common, and no stage may ask for
more than a node has (a whole-CPU task beside two half-CPU actors once stalled for good)."""
import os
import shutil

import pytest
from conftest import write_stream_feed
from sklearn.metrics import adjusted_rand_score

from samestory.ingest import Columns

ROWS = 120


@pytest.fixture(scope="module")
def feed(shared, tmp_path_factory):
    return write_stream_feed(shared, tmp_path_factory.mktemp("feed") / "stream.csv", ROWS)


@pytest.mark.ray
def test_two_one_cpu_nodes_give_the_stories_of_a_local_run(feed, tmp_path):
    ray = pytest.importorskip("ray")
    from ray.cluster_utils import Cluster

    from samestory.corpus import DEFAULT_ENCODER, Corpus
    from samestory.embed import cache_dir, load_encoder
    from samestory.scale.ingest import ingest

    load_encoder(DEFAULT_ENCODER)      # built once into the session's cache, copied for the workers
    worker_cache = tmp_path / "ray-cache"
    worker_cache.mkdir()
    for f in cache_dir().iterdir():
        if f.suffix in (".onnx", ".spm", ".json", ".npz"):
            shutil.copy(f, worker_cache / f.name)
    cols = Columns(text="TITLE", title="TITLE", date="TIMESTAMP", id="ID")
    local = Corpus(tmp_path / "local.db", progress=False)
    here = ingest(local, [str(feed)], cols, batch_size=32)
    cluster = Cluster(initialize_head=True, head_node_args={"num_cpus": 1, "include_dashboard": False})
    try:
        cluster.add_node(num_cpus=1)
        cluster.wait_for_nodes()
        os.environ["RAY_ADDRESS"] = cluster.address
        ray.init(address=cluster.address, log_to_driver=False,
                 runtime_env={"env_vars": {"SAMESTORY_CACHE": str(worker_cache)}})
        assert ray.cluster_resources()["CPU"] == 2 and len(ray.nodes()) == 2
        distributed = Corpus(tmp_path / "ray.db", progress=False)
        there = ingest(distributed, [str(feed)], cols, engine="ray", batch_size=32, ray_address=cluster.address)
    finally:
        os.environ.pop("RAY_ADDRESS", None)
        ray.shutdown()
        cluster.shutdown()
    assert there.engine == "ray" and there.added == here.added and there.errors == here.errors
    assert [o.article for o in there.outcomes] == [o.article for o in here.outcomes]
    assert adjusted_rand_score([o.story for o in here.outcomes], [o.story for o in there.outcomes]) >= 0.99
