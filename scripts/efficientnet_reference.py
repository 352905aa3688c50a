"""PyTorch reference logits for the EfficientNet-Lite0 import test (run once, by hand).

tests/efficientnet_import.rs checks that the Burn network, loaded from the same `.pth` file,
gives these logits within 1e-3. This script needs PyTorch, NumPy and Pillow, which the project
itself does not; its output is committed:

    python -m venv /tmp/torch && /tmp/torch/bin/pip install torch==2.5.1 numpy pillow
    /tmp/torch/bin/python scripts/efficientnet_reference.py \
        --pth ~/.cache/bone-fracture/imagenet/efficientnet-lite0-57934424.pth \
        [--skimage-data .../skimage/data]   # only to remake the photos

The photos (224x224 centre crops, bicubic) are from scikit-image's sample data: Chelsea the cat
and the coffee cup (CC0, Stefan van der Walt and Rachel Michetti) and the DSCOVR launch (SpaceX,
public domain).

The network is written out here in plain PyTorch, as EfficientNet-PyTorch builds Lite0 (TF
"same" padding, ReLU6, no squeeze-and-excitation), independently of the Rust code.
"""

import argparse
import json
import math
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

FIXTURES = Path(__file__).resolve().parent.parent / "tests" / "fixtures" / "imagenet"
PHOTOS = {"cat": "chelsea.png", "coffee": "coffee.png", "rocket": "rocket.jpg"}
# (repeats, kernel, stride, expansion, output channels)
STAGES = [(1, 3, 1, 1, 16), (2, 3, 2, 6, 24), (2, 5, 2, 6, 40), (3, 3, 2, 6, 80),
          (3, 5, 1, 6, 112), (4, 5, 2, 6, 192), (1, 3, 1, 6, 320)]


def conv_same(x, weight, stride, groups=1):
    """TensorFlow's "same" padding: the odd pixel goes to the bottom and right."""
    k = weight.shape[-1]
    pads = []
    for size in (x.shape[-1], x.shape[-2]):
        out = math.ceil(size / stride)
        total = max((out - 1) * stride + k - size, 0)
        pads += [total // 2, total - total // 2]
    return F.conv2d(F.pad(x, pads), weight, stride=stride, groups=groups)


def batch_norm(x, sd, prefix):
    return F.batch_norm(x, sd[prefix + ".running_mean"], sd[prefix + ".running_var"],
                        sd[prefix + ".weight"], sd[prefix + ".bias"], False, 0.0, 1e-3)


def forward(sd, images):
    x = images * 255.0 / 128.0 - 127.0 / 128.0
    x = F.relu6(batch_norm(conv_same(x, sd["_conv_stem.weight"], 2), sd, "_bn0"))
    n = 0
    channels = 32
    for repeats, _, stride, expand, out in STAGES:
        for r in range(repeats):
            p = f"_blocks.{n}."
            inputs = x
            if expand != 1:
                x = F.relu6(batch_norm(conv_same(x, sd[p + "_expand_conv.weight"], 1), sd, p + "_bn0"))
            dw = sd[p + "_depthwise_conv.weight"]
            x = F.relu6(batch_norm(conv_same(x, dw, stride if r == 0 else 1, groups=dw.shape[0]), sd, p + "_bn1"))
            x = batch_norm(conv_same(x, sd[p + "_project_conv.weight"], 1), sd, p + "_bn2")
            if (stride if r == 0 else 1) == 1 and channels == out:
                x = x + inputs
            channels = out
            n += 1
    x = F.relu6(batch_norm(conv_same(x, sd["_conv_head.weight"], 1), sd, "_bn1"))
    x = x.mean(dim=(2, 3))
    return F.linear(x, sd["_fc.weight"], sd["_fc.bias"])


def make_photos(skimage_data):
    for name, file in PHOTOS.items():
        image = Image.open(Path(skimage_data) / file).convert("RGB")
        w, h = image.size
        s = min(w, h)
        box = ((w - s) // 2, (h - s) // 2, (w - s) // 2 + s, (h - s) // 2 + s)
        image.crop(box).resize((224, 224), Image.BICUBIC).save(FIXTURES / f"{name}.png", optimize=True)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pth", required=True)
    parser.add_argument("--skimage-data")
    args = parser.parse_args()
    if args.skimage_data:
        make_photos(args.skimage_data)
    sd = torch.load(args.pth, map_location="cpu", weights_only=True)
    out = {"torch": torch.__version__, "pth": Path(args.pth).name, "images": []}
    with torch.no_grad():
        for name in PHOTOS:
            pixels = np.asarray(Image.open(FIXTURES / f"{name}.png").convert("RGB"), dtype=np.float32) / 255.0
            images = torch.from_numpy(pixels).permute(2, 0, 1).unsqueeze(0)
            logits = forward(sd, images)[0]
            top5 = torch.topk(logits, 5)
            out["images"].append({
                "file": f"{name}.png",
                "top5": top5.indices.tolist(),
                "top5_probabilities": [round(p, 6) for p in F.softmax(logits, 0)[top5.indices].tolist()],
                "logits": [round(v, 6) for v in logits.tolist()],
            })
            print(name, top5.indices.tolist(), [round(p, 3) for p in F.softmax(logits, 0)[top5.indices].tolist()])
    (FIXTURES / "reference.json").write_text(json.dumps(out) + "\n")


if __name__ == "__main__":
    main()
