"Finding images under a root, and opening every kind of image file (or failing with its name)."
import os, warnings
from pathlib import Path
import numpy as np, pytest
from PIL import Image
from aaacov.data import match_images, index_images
from aaacov.dataloaders import load_photo, ImageLoadError, PILPhoto
from conftest import write_images

# --- match_images ---------------------------------------------------------------------------------------------

def test_recursive_and_score_prefixed(tmp_path, labels):
    write_images(labels.iloc[:4], tmp_path/'a'/'b')
    for f in labels.fname.iloc[4:]: Image.new('RGB', (4, 4)).save(tmp_path/f'0.650_{f}')
    m = match_images(labels, tmp_path)
    assert len(m) == len(labels) and m.attrs['missing'] == []
    assert all(Path(p).is_file() for p in m.path)
    assert Path(m.path.iat[5]).name == f'0.650_{labels.fname.iat[5]}'

def test_exact_name_wins_over_prefixed(tmp_path, labels):
    f = labels.fname.iat[0]
    Image.new('RGB', (4, 4)).save(tmp_path/f); Image.new('RGB', (4, 4)).save(tmp_path/f'0.5_{f}')
    with pytest.warns(UserWarning):
        m = match_images(labels.iloc[:2], tmp_path)
    assert Path(m.path.iat[0]).name == f

def test_missing_images_reported_never_silent(tmp_path, labels):
    write_images(labels.iloc[:-2], tmp_path)
    with pytest.warns(UserWarning, match=r'2 of 12 labelled image\(s\) not found') as w:
        m = match_images(labels, tmp_path)
    assert labels.fname.iat[-1] in str(w[0].message)
    assert len(m) == 10 and m.attrs['missing'] == labels.fname.iloc[-2:].tolist()
    with pytest.raises(FileNotFoundError, match='2 of 12'): match_images(labels, tmp_path, on_missing='raise')

def test_ambiguous_names_warn(tmp_path, labels):
    write_images(labels.iloc[:1], tmp_path/'x'); write_images(labels.iloc[:1], tmp_path/'y')
    with pytest.warns(UserWarning, match='more than once'):
        m = match_images(labels.iloc[:1], tmp_path)
    assert '/x/' in m.path.iat[0]

def test_bad_roots(tmp_path, labels):
    with pytest.raises(FileNotFoundError, match='no such folder'): match_images(labels, tmp_path/'none')
    with pytest.raises(FileNotFoundError, match='no image files'): match_images(labels, tmp_path)

def test_symlink_loop_terminates(tmp_path, labels):
    write_images(labels.iloc[:2], tmp_path/'imgs')
    os.symlink(tmp_path, tmp_path/'imgs'/'loop')
    idx = index_images(tmp_path)
    assert sorted(idx) == sorted(labels.fname.iloc[:2])

def test_unicode_and_spaces_in_names(tmp_path, labels):
    lab = labels.iloc[:2].copy(); lab['fname'] = ['ph oto é.jpg', '写真 1.JPG']
    write_images(lab, tmp_path)
    m = match_images(lab, tmp_path)
    assert [load_photo(p).size for p in m.path] == [(30, 40), (40, 30)]

# --- load_photo -----------------------------------------------------------------------------------------------

def _px(im, xy=(0, 0)): return im.getpixel(xy)

def test_modes_become_8bit_rgb(tmp_path):
    cases = {
        'cmyk.jpg': Image.new('CMYK', (8, 8), (0, 255, 255, 0)),
        'grey.png': Image.new('L', (8, 8), 77),
        'bw.png': Image.new('1', (8, 8), 1),
        'la.png': Image.new('LA', (8, 8), (0, 0)),
        'rgba.png': Image.new('RGBA', (8, 8), (255, 0, 0, 255)),
        'tiny.png': Image.new('RGB', (1, 1), (1, 2, 3)),
        'photo.webp': Image.new('RGB', (8, 8), (0, 0, 250)),
    }
    for name, im in cases.items(): im.save(tmp_path/name)
    out = {n: load_photo(tmp_path/n) for n in cases}
    assert all(im.mode == 'RGB' for im in out.values())
    assert _px(out['cmyk.jpg'])[0] > 200 and _px(out['cmyk.jpg'])[2] < 60
    assert _px(out['grey.png']) == (77, 77, 77) and _px(out['bw.png']) == (255, 255, 255)
    assert _px(out['la.png']) == (255, 255, 255)           # transparent -> white, not black
    assert _px(out['rgba.png']) == (255, 0, 0) and _px(out['tiny.png']) == (1, 2, 3)
    assert _px(out['photo.webp'])[2] > 230

def test_16bit_png_is_scaled_not_clipped(tmp_path):
    Image.fromarray(np.full((4, 4), 32768, dtype=np.uint16)).save(tmp_path/'g16.png')
    assert _px(load_photo(tmp_path/'g16.png')) == (128, 128, 128)

def test_palette_with_transparency(tmp_path):
    p = Image.new('P', (4, 4), 0); p.putpalette([10, 20, 30] + [0] * 765); p.info['transparency'] = 0
    p.save(tmp_path/'p.png', transparency=0)
    assert _px(load_photo(tmp_path/'p.png')) == (255, 255, 255)

def test_exif_rotation_applied(tmp_path):
    im = Image.new('RGB', (30, 10), (200, 0, 0)); ex = im.getexif(); ex[0x0112] = 8
    im.save(tmp_path/'r.jpg', exif=ex)
    assert load_photo(tmp_path/'r.jpg').size == (10, 30)

def test_animated_gif_first_frame(tmp_path):
    frames = [Image.new('RGB', (6, 6), c) for c in [(255, 0, 0), (0, 0, 255)]]
    frames[0].save(tmp_path/'a.gif', save_all=True, append_images=frames[1:])
    r, g, b = _px(load_photo(tmp_path/'a.gif'))
    assert r > 200 and b < 50

@pytest.mark.parametrize('make,msg', [
    (lambda p: p.write_bytes(b''), 'not an image Pillow can read'),
    (lambda p: p.write_text('hello'), 'not an image Pillow can read'),
    (lambda p: p.write_bytes(b'\xff\xd8\xff\xe0' + os.urandom(500)), 'not an image|cannot decode'),
])
def test_unreadable_files_name_the_file(tmp_path, make, msg):
    p = tmp_path/'bad file.jpg'; make(p)
    with pytest.raises(ImageLoadError, match=msg) as e: load_photo(p)
    assert 'bad file.jpg' in str(e.value)

def test_truncated_jpeg(tmp_path):
    rng = np.random.default_rng(0)
    Image.fromarray(rng.integers(0, 255, (64, 64, 3), dtype=np.uint8)).save(tmp_path/'w.jpg')
    (tmp_path/'t.jpg').write_bytes((tmp_path/'w.jpg').read_bytes()[:1500])
    with pytest.raises(ImageLoadError, match='t.jpg: cannot decode'): load_photo(tmp_path/'t.jpg')

def test_missing_folder_and_bomb(tmp_path, monkeypatch):
    with pytest.raises(ImageLoadError, match='file not found'): load_photo(tmp_path/'x.jpg')
    with pytest.raises(ImageLoadError, match='is a folder'): load_photo(tmp_path)
    Image.new('RGB', (200, 200)).save(tmp_path/'big.png')
    monkeypatch.setattr(Image, 'MAX_IMAGE_PIXELS', 100)
    with pytest.raises(ImageLoadError, match='decompression bomb'): load_photo(tmp_path/'big.png')

def test_unreadable_permissions(tmp_path, monkeypatch):
    Image.new('RGB', (4, 4)).save(tmp_path/'locked.jpg'); os.chmod(tmp_path/'locked.jpg', 0)
    if os.geteuid() == 0:  # root reads files without read permission: make the open fail as it does for a user
        def denied(*a, **k): raise PermissionError(13, 'Permission denied')
        monkeypatch.setattr(Image, 'open', denied)
    with pytest.raises(ImageLoadError, match='locked.jpg: permission denied'): load_photo(tmp_path/'locked.jpg')

def test_pilphoto_create_from_path_and_array(tmp_path):
    Image.new('CMYK', (5, 7)).save(tmp_path/'c.jpg')
    im = PILPhoto.create(tmp_path/'c.jpg')
    assert isinstance(im, PILPhoto) and im.mode == 'RGB' and im.size == (5, 7)
    assert PILPhoto.create(np.zeros((3, 4, 3), dtype=np.uint8)).size == (4, 3)
