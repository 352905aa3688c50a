"""Training throughput of the reference notebook's CNN in Keras (TensorFlow, CPU) and in
PyTorch (CPU): the same network, batch size, optimiser and input size as
`cargo bench --bench train_throughput` (Burn), on the same kind of batch, one process per
framework. Prints one tab-separated line like the Burn benchmark:
framework, batch, steps, images/s, ms/step, peak RSS (MiB).

The images are decoded and resized to 256x256 (bilinear) before timing; the first step
(graph tracing, allocation) is not timed. Run by scripts/bench.sh from its own virtualenv.

Usage: python bench/training/peers.py keras|torch DATA_DIR [STEPS]
"""

import os
import resource
import sys
import time

import numpy as np
from PIL import Image

BATCH = 32
SIDE = 256
CLASSES = 10
FILTERS = (32, 64, 128, 256)


def first_images(data_dir, n):
    """`n` images spread over the class folders (sorted, every len/n-th), as Burn's benchmark picks them."""
    files = [
        os.path.join(data_dir, c, f)
        for c in sorted(d for d in os.listdir(data_dir) if os.path.isdir(os.path.join(data_dir, d)))
        for f in sorted(os.listdir(os.path.join(data_dir, c)))
    ]
    stride = max(len(files) // n, 1)
    images = []
    for path in files[::stride]:
        try:
            img = Image.open(path).convert("RGB").resize((SIDE, SIDE), Image.BILINEAR)
        except OSError:
            continue
        images.append(np.asarray(img, dtype=np.float32) / 255.0)
        if len(images) == n:
            break
    return np.stack(images)  # [n, 256, 256, 3]


def keras_step(images, labels):
    import tensorflow as tf
    from tensorflow import keras

    layers = [keras.Input((SIDE, SIDE, 3))]
    for f in FILTERS:
        layers += [
            keras.layers.Conv2D(f, 3, strides=2),
            keras.layers.BatchNormalization(),
            keras.layers.LeakyReLU(negative_slope=0.3),
            keras.layers.Dropout(0.2),
        ]
    layers += [keras.layers.Flatten(), keras.layers.Dense(100), keras.layers.Dense(CLASSES, activation="softmax")]
    model = keras.Sequential(layers)
    model.compile(optimizer=keras.optimizers.Adam(5e-4), loss="sparse_categorical_crossentropy")
    x, y = tf.constant(images), tf.constant(labels)
    return lambda: model.train_on_batch(x, y), f"Keras {keras.__version__} (TensorFlow {tf.__version__}, CPU)"


def torch_step(images, labels):
    import torch
    from torch import nn

    layers, channels = [], 3
    for f in FILTERS:
        layers += [nn.Conv2d(channels, f, 3, stride=2), nn.BatchNorm2d(f, eps=1e-3, momentum=0.01), nn.LeakyReLU(0.3), nn.Dropout(0.2)]
        channels = f
    model = nn.Sequential(*layers, nn.Flatten(), nn.Linear(256 * 15 * 15, 100), nn.Linear(100, CLASSES))
    model.train()
    optimiser = torch.optim.Adam(model.parameters(), lr=5e-4, eps=1e-7)
    loss_fn = nn.CrossEntropyLoss()
    x = torch.from_numpy(images).permute(0, 3, 1, 2).contiguous()
    y = torch.from_numpy(labels).long()

    def step():
        optimiser.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        optimiser.step()
        return loss.item()

    return step, f"PyTorch {torch.__version__} (CPU, {torch.get_num_threads()} threads)"


def main():
    framework, data_dir = sys.argv[1], sys.argv[2]
    steps = int(sys.argv[3]) if len(sys.argv) > 3 else 6
    images = first_images(data_dir, BATCH)
    labels = np.arange(BATCH, dtype=np.int64) % CLASSES
    step, name = {"keras": keras_step, "torch": torch_step}[framework](images, labels)
    step()  # warm-up: tracing, allocation
    start = time.perf_counter()
    for _ in range(steps):
        step()
    seconds = time.perf_counter() - start
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{name}\t{BATCH}\t{steps}\t{steps * BATCH / seconds:.2f}\t{seconds / steps * 1000:.1f}\t{peak_mib:.0f}")


if __name__ == "__main__":
    main()
