# The --deep runner (src/python/deep.rs says what it answers). Python 3.
import sys, json, time, importlib
request = json.loads(sys.argv[1])
def say(d):
    sys.stdout.write(json.dumps(d) + "\n")
    sys.stdout.flush()
def name(e):
    t = type(e)
    return t.__qualname__ if t.__module__ == "builtins" else t.__module__ + "." + t.__qualname__
def message(e):
    lines = [l.strip() for l in str(e).splitlines() if l.strip()]
    text = lines[0] if lines else ""
    return text[:300]
def failure(e):
    chain, seen, inner = [], {id(e)}, e.__cause__ or e.__context__
    while inner is not None and id(inner) not in seen and len(chain) < 3:
        seen.add(id(inner))
        chain.append((name(inner) + ": " + message(inner)).rstrip(": "))
        inner = inner.__cause__ or inner.__context__
    return {"ok": False, "error_type": name(e), "error": message(e), "causes": chain}
for dist, module in request["imports"]:
    started = time.time()
    try:
        m = importlib.import_module(module)
        version = getattr(m, "__version__", None)
        say({"import": dist, "module": module, "ok": True, "version": version if isinstance(version, str) else None, "seconds": time.time() - started})
    except BaseException as e:
        say(dict(failure(e), **{"import": dist, "module": module}))
if request["train"]:
    started = time.time()
    try:
        import numpy as np
        import tensorflow as tf
        x = np.random.rand(256, 8).astype("float32")
        y = x.sum(axis=1, keepdims=True)
        model = tf.keras.Sequential([tf.keras.layers.Dense(16, activation="relu", input_shape=(8,)), tf.keras.layers.Dense(1)])
        model.compile(optimizer="adam", loss="mse")
        history = model.fit(x, y, epochs=3, batch_size=32, verbose=0)
        say({"train": True, "ok": True, "seconds": time.time() - started, "loss": float(history.history["loss"][-1])})
    except BaseException as e:
        say(dict(failure(e), train=True))
