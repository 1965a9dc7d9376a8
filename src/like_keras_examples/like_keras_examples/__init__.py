"""Canonical like-keras systems, each runnable on every transport.

``EXAMPLES`` names them (``module:Class`` targets); ``python -m
like_keras_examples.pictures DIR`` draws each one (``make pictures``: the README's).
"""

EXAMPLES = {
    "cartpole": "like_keras_examples.cartpole:CartPole",
    "bandit": "like_keras_examples.bandit:Bandit",
    "sensor_pipeline": "like_keras_examples.sensor_pipeline:SensorPipeline",
    "throughput": "like_keras_examples.throughput:Flood",
}
