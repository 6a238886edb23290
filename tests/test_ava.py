"AVA readers on malformed files: each error names the file and line. The well-formed cases are checked in nbs/02_ava.ipynb."
import pytest
from aaacov.ava import read_ava, read_ava_styles, read_ava_style_multilab, AVAFormatError

AVA = """1 953619 0 1 5 17 38 36 15 6 5 1 1 22 1396
2 953958 10 7 15 33 36 22 8 4 2 1 1 21 1396
3 954184 0 0 4 8 41 56 10 5 0 0 0 0 1396
"""

@pytest.mark.parametrize('line,msg', [('4 1 1 2 3\n', 'expected 15 fields'),
                                      ('4 77 0 1 a 17 38 36 15 6 5 1 1 22 1396\n', 'must be integers'),
                                      ('4 78 0 -1 5 17 38 36 15 6 5 1 1 22 1396\n', 'negative rating count'),
                                      ('4 953619 0 1 5 17 38 36 15 6 5 1 1 22 1396\n', 'listed twice')])
def test_bad_ava_lines_name_the_line(tmp_path, line, msg):
    (tmp_path/'AVA.txt').write_text(AVA + line)
    with pytest.raises(AVAFormatError, match=msg) as e: read_ava(tmp_path/'AVA.txt')
    assert 'line 4' in str(e.value)

def test_images_without_votes_dropped_with_warning(tmp_path):
    (tmp_path/'AVA.txt').write_text(AVA + '4 99 0 0 0 0 0 0 0 0 0 0 0 0 1\n')
    with pytest.warns(UserWarning, match=r'1 image\(s\) have no ratings'):
        assert len(read_ava(tmp_path/'AVA.txt')) == 3

def test_missing_and_empty_files(tmp_path):
    with pytest.raises(FileNotFoundError): read_ava(tmp_path/'AVA.txt')
    (tmp_path/'AVA.txt').write_text('')
    with pytest.raises(AVAFormatError, match='empty'): read_ava(tmp_path/'AVA.txt')

def test_bad_style_labels(tmp_path):
    (tmp_path/'train.jpgl').write_text('1\n2\n3\n'); (tmp_path/'train.lab').write_text('1\n7\n15\n')
    with pytest.raises(AVAFormatError, match='style 15 is not in 1..14'): read_ava_styles(tmp_path/'train.jpgl', tmp_path/'train.lab')
    (tmp_path/'train.lab').write_text('1\n7\n')
    with pytest.raises(AVAFormatError, match='3 images but .* 2 labels'): read_ava_styles(tmp_path/'train.jpgl', tmp_path/'train.lab')

def test_bad_multilab_flags(tmp_path):
    (tmp_path/'test.jpgl').write_text('5\n6\n')
    (tmp_path/'test.multilab').write_text('1 0 0 0 0 0 0 0 0 0 0 0 0 1\n0 0 0 0 0 0 0 0 0 0 2 0 0 0\n')
    with pytest.raises(AVAFormatError, match='line 2: style flags must be 0 or 1'):
        read_ava_style_multilab(tmp_path/'test.jpgl', tmp_path/'test.multilab')
