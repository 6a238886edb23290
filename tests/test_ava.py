"AVA readers on files written in AVA's exact formats, and their errors."
import numpy as np, pandas as pd, pytest
from aaacov.ava import (read_ava, read_ava_ids, ava_split, read_ava_styles, read_ava_style_multilab, AVAFormatError,
                        AVA_STYLES, PROB_COLS, RATING_COLS)

AVA = """1 953619 0 1 5 17 38 36 15 6 5 1 1 22 1396
2 953958 10 7 15 33 36 22 8 4 2 1 1 21 1396
3 954184 0 0 4 8 41 56 10 5 0 0 0 0 1396
"""

def test_read_ava(tmp_path):
    (tmp_path/'AVA.txt').write_text(AVA)
    df = read_ava(tmp_path/'AVA.txt')
    assert df.image_id.tolist() == [953619, 953958, 954184] and df.challenge.tolist() == [1396] * 3
    assert df.loc[1, RATING_COLS].tolist() == [10, 7, 15, 33, 36, 22, 8, 4, 2, 1]
    c = np.array([0, 0, 4, 8, 41, 56, 10, 5, 0, 0]); s = np.arange(1, 11)
    m = (c * s).sum() / c.sum()
    assert df['mean'].iat[2] == pytest.approx(m)
    assert df['std'].iat[2] == pytest.approx(np.sqrt((c * (s - m) ** 2).sum() / c.sum()))
    assert np.allclose(df[PROB_COLS].sum(axis=1), 1) and df.n_votes.tolist() == [124, 138, 124]

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

def test_split_and_styles(tmp_path):
    (tmp_path/'AVA.txt').write_text(AVA); (tmp_path/'generic_test.jpgl').write_text('954184\n12345\n')
    with pytest.warns(UserWarning, match='1 test id'):
        s = ava_split(read_ava(tmp_path/'AVA.txt'), read_ava_ids(tmp_path/'generic_test.jpgl'))
    assert s.split.tolist() == ['train', 'train', 'test']
    (tmp_path/'train.jpgl').write_text('1\n2\n3\n'); (tmp_path/'train.lab').write_text('1\n7\n14\n')
    st = read_ava_styles(tmp_path/'train.jpgl', tmp_path/'train.lab')
    assert st.style_name.tolist() == ['Complementary_Colors', 'Macro', 'Vanishing_Point'] and len(AVA_STYLES) == 14
    (tmp_path/'train.lab').write_text('1\n7\n15\n')
    with pytest.raises(AVAFormatError, match='style 15 is not in 1..14'): read_ava_styles(tmp_path/'train.jpgl', tmp_path/'train.lab')
    (tmp_path/'train.lab').write_text('1\n7\n')
    with pytest.raises(AVAFormatError, match='3 images but .* 2 labels'): read_ava_styles(tmp_path/'train.jpgl', tmp_path/'train.lab')

def test_multilab(tmp_path):
    (tmp_path/'test.jpgl').write_text('5\n6\n')
    (tmp_path/'test.multilab').write_text('1 0 0 0 0 0 0 0 0 0 0 0 0 1\n0 0 0 0 0 0 0 0 0 0 1 0 0 0\n')
    ml = read_ava_style_multilab(tmp_path/'test.jpgl', tmp_path/'test.multilab')
    assert ml.columns.tolist() == ['image_id', *AVA_STYLES]
    assert ml.loc[0, 'Vanishing_Point'] == 1 and ml.loc[1, 'Shallow_DOF'] == 1 and ml.iloc[:, 1:].to_numpy().sum() == 3
    (tmp_path/'test.multilab').write_text('1 0 0 0 0 0 0 0 0 0 0 0 0 1\n0 0 0 0 0 0 0 0 0 0 2 0 0 0\n')
    with pytest.raises(AVAFormatError, match='line 2: style flags must be 0 or 1'):
        read_ava_style_multilab(tmp_path/'test.jpgl', tmp_path/'test.multilab')
