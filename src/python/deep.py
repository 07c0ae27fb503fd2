# The --deep runner (src/python/deep.rs says what it answers). Python 3.
# Imports each pin, then, when asked, builds and fits one tiny model per exam category on a
# few batches of random data. Answers go, one JSON line per step, to the channel named by
# PREFLIGHT_DEEP_CHANNEL (a descriptor on Unix, a handle on Windows), never to stdout, where
# imported packages print what they like.
import importlib, json, os, sys, time

# Quiet TensorFlow's C++ start-up banner unless the user chose a level.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def open_channel():
    number = int(os.environ.pop("PREFLIGHT_DEEP_CHANNEL"))
    if os.name == "nt":
        import msvcrt

        number = msvcrt.open_osfhandle(number, os.O_WRONLY)
    # Nothing this run starts inherits it.
    os.set_inheritable(number, False)
    return os.fdopen(number, "w", encoding="utf-8")


channel = open_channel()
request = json.loads(sys.argv[1])


def say(d):
    channel.write(json.dumps(d) + "\n")
    channel.flush()


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


SAMPLES = 64  # two batches of 32: a real training step, cheap on a laptop CPU
EPOCHS = 2
# Eager steps: tracing an LSTM's graph costs seconds of CPU, far more than two tiny epochs.
# Building the layers still goes through Keras's symbolic graph, where breakages such as
# numpy 1.20 under TF 2.4/2.5 surface.
RUN_EAGERLY = True


def pad_sequences_function(tf):
    # keras.utils.pad_sequences from TF 2.9's Keras; the preprocessing module 2.3 to 2.15.
    utils = getattr(tf.keras, "utils", None)
    if utils is not None and hasattr(utils, "pad_sequences"):
        return utils.pad_sequences
    return tf.keras.preprocessing.sequence.pad_sequences


def dense_regression(tf, np):
    x = np.random.rand(SAMPLES, 8).astype("float32")
    y = x.sum(axis=1, keepdims=True)
    model = tf.keras.Sequential(
        [tf.keras.layers.Dense(16, activation="relu", input_shape=(8,)), tf.keras.layers.Dense(1)]
    )
    model.compile(optimizer="adam", loss="mse", run_eagerly=RUN_EAGERLY)
    model.fit(x, y, epochs=EPOCHS, batch_size=32, verbose=0)


def image_classifier(tf, np):
    x = np.random.rand(SAMPLES, 28, 28, 1).astype("float32")
    y = np.random.randint(0, 10, size=(SAMPLES,))
    model = tf.keras.Sequential(
        [
            tf.keras.layers.Conv2D(8, 3, activation="relu", input_shape=(28, 28, 1)),
            tf.keras.layers.MaxPooling2D(2),
            tf.keras.layers.Flatten(),
            tf.keras.layers.Dense(10, activation="softmax"),
        ]
    )
    model.compile(
        optimizer="adam",
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
        run_eagerly=RUN_EAGERLY,
    )
    model.fit(x, y, epochs=EPOCHS, batch_size=32, verbose=0)


def text_classifier(tf, np):
    vocabulary, length = 100, 12
    # Ragged token lists, as a tokenizer gives them, padded as exam notebooks do.
    sequences = [
        list(np.random.randint(1, vocabulary, size=np.random.randint(3, length + 4)))
        for _ in range(SAMPLES)
    ]
    x = pad_sequences_function(tf)(sequences, maxlen=length, padding="post", truncating="post")
    y = np.random.randint(0, 2, size=(SAMPLES,))
    model = tf.keras.Sequential(
        [
            tf.keras.layers.Embedding(vocabulary, 8, input_shape=(length,)),
            tf.keras.layers.Bidirectional(tf.keras.layers.LSTM(8)),
            tf.keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(
        optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"], run_eagerly=RUN_EAGERLY
    )
    model.fit(x, y, epochs=EPOCHS, batch_size=32, verbose=0)


def time_series(tf, np):
    window = 10
    series = np.sin(np.arange(SAMPLES + window, dtype="float32") / 5.0)
    dataset = tf.data.Dataset.from_tensor_slices(series)
    dataset = dataset.window(window + 1, shift=1, drop_remainder=True)
    # This script has no source file for AutoGraph to read: without this it warns on stderr.
    plain = tf.autograph.experimental.do_not_convert
    dataset = dataset.flat_map(plain(lambda w: w.batch(window + 1)))
    dataset = dataset.map(plain(lambda w: (tf.expand_dims(w[:-1], -1), w[-1:])))
    dataset = dataset.batch(32)
    model = tf.keras.Sequential(
        [
            tf.keras.layers.Conv1D(8, 3, padding="causal", activation="relu", input_shape=(window, 1)),
            tf.keras.layers.LSTM(8),
            tf.keras.layers.Dense(1),
        ]
    )
    model.compile(optimizer="adam", loss="mse", run_eagerly=RUN_EAGERLY)
    model.fit(dataset, epochs=EPOCHS, verbose=0)


MODELS = [
    ("dense_regression", dense_regression),
    ("image_classifier", image_classifier),
    ("text_classifier", text_classifier),
    ("time_series", time_series),
]

for dist, module in request["imports"]:
    started = time.perf_counter()
    try:
        m = importlib.import_module(module)
        version = getattr(m, "__version__", None)
        say({"import": dist, "module": module, "ok": True,
             "version": version if isinstance(version, str) else None,
             "seconds": time.perf_counter() - started})
    except BaseException as e:
        say(dict(failure(e), **{"import": dist, "module": module}))

if request["train"]:
    try:
        import numpy as np
        import tensorflow as tf

        np.random.seed(0)
        tf.random.set_seed(0)
    except BaseException as e:
        say(dict(failure(e), train="setup"))
    else:
        for model, build_and_fit in MODELS:
            started, cpu = time.perf_counter(), time.process_time()
            try:
                build_and_fit(tf, np)
                step = {"ok": True}
            except BaseException as e:  # the exception is what this step measures
                step = failure(e)
            step.update(train=model, seconds=time.perf_counter() - started,
                        cpu_seconds=time.process_time() - cpu)
            say(step)
            try:
                # Frees the model's graph state; a broken Keras raises here what the model did.
                tf.keras.backend.clear_session()
            except BaseException:
                pass
