"Label files: both released forms, validation errors naming file and line, the leak, the shipped labels."
import hashlib, re, warnings
from pathlib import Path
import numpy as np, pandas as pd, pytest
from aaacov.data import (TARGETS, ATTRIBUTES, AADBLabelError, read_aadb_labels, validate_labels, aadb_labels,
                         aadb_label_dir, label_stats, label_corr, split_sizes)
from conftest import make_labels, write_csv_form, write_txt_form

def test_targets_spelled_as_dataset():
    assert ATTRIBUTES[0] == 'BalacingElements' and TARGETS[-1] == 'score' and len(TARGETS) == 12

def test_both_forms_read_the_same(tmp_path, labels):
    a = read_aadb_labels(write_csv_form(labels, tmp_path/'csv'))
    b = read_aadb_labels(write_txt_form(labels, tmp_path/'txt'))
    assert list(a.columns) == ['fname', 'split', *TARGETS]
    pd.testing.assert_frame_equal(a, b)
    pd.testing.assert_frame_equal(a, labels.reset_index(drop=True), check_dtype=False)

def test_form_can_be_forced_and_files_found_below(tmp_path, labels):
    write_txt_form(labels, tmp_path/'release'/'imgListFiles_label')
    assert len(read_aadb_labels(tmp_path, form='txt')) == len(labels)
    with pytest.raises(AADBLabelError, match='no AADB label files'): read_aadb_labels(tmp_path, form='csv')

def test_testnew_wins_over_test(tmp_path, labels):
    d = write_csv_form(labels, tmp_path)
    old = labels[labels.split == 'test'].head(1).drop(columns='split').rename(columns={'fname': 'ImageFile'})
    old.to_csv(d/'imgListTestRegression_.csv', index=False)
    df = read_aadb_labels(d)
    assert (df.split == 'test').sum() == 3

def test_several_label_folders_is_an_error(tmp_path, labels):
    write_csv_form(labels, tmp_path/'a'); write_csv_form(labels, tmp_path/'b')
    with pytest.raises(AADBLabelError, match='several folders'): read_aadb_labels(tmp_path)

def test_missing_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match='no such folder'): read_aadb_labels(tmp_path/'nope')
    with pytest.raises(AADBLabelError, match='no AADB label files'): read_aadb_labels(tmp_path)

# --- bad CSV content: each names the file and the line --------------------------------------------------------

def _csv_with(tmp_path, labels, row, col, value):
    d = write_csv_form(labels, tmp_path)
    f = d/'imgListTrainRegression_.csv'
    df = pd.read_csv(f, dtype=str, keep_default_na=False)
    df.loc[row, col] = value
    df.to_csv(f, index=False)
    return d

@pytest.mark.parametrize('col,value,msg', [
    ('Light', '', 'not a number'), ('Light', 'nan', 'NaN or infinite'), ('score', 'inf', 'NaN or infinite'),
    ('Light', 'high', 'not a number'), ('Light', '1.4', r'Light = 1.4 is outside \[-1, 1\]'),
    ('DoF', '-1.2', r'DoF = -1.2 is outside'), ('score', '1.5', r'score = 1.5 is outside \[0, 1\]'),
    ('score', '-0.1', 'outside'), ('ImageFile', '', 'empty ImageFile')])
def test_bad_value_names_file_and_line(tmp_path, labels, col, value, msg):
    d = _csv_with(tmp_path, labels, 2, col, value)
    with pytest.raises(AADBLabelError, match=msg) as e: read_aadb_labels(d)
    assert 'imgListTrainRegression_.csv, line 4' in str(e.value)

def test_wrong_header(tmp_path, labels):
    d = write_csv_form(labels.rename(columns={'DoF': 'DepthOfField'}), tmp_path)
    with pytest.raises(AADBLabelError, match=r"wrong header, missing column\(s\) \['DoF'\]"): read_aadb_labels(d)

def test_empty_and_header_only_csv(tmp_path, labels):
    d = write_csv_form(labels, tmp_path)
    (d/'imgListTrainRegression_.csv').write_text('')
    with pytest.raises(AADBLabelError, match='the file is empty'): read_aadb_labels(d)
    (d/'imgListTrainRegression_.csv').write_text('ImageFile,' + ','.join(TARGETS) + '\n')
    with pytest.raises(AADBLabelError, match='header but no rows'): read_aadb_labels(d)

def test_duplicate_rows_in_a_split(tmp_path, labels):
    dup = pd.concat([labels, labels.iloc[[1]]], ignore_index=True)
    with pytest.raises(AADBLabelError, match='appears more than once') as e: read_aadb_labels(write_csv_form(dup, tmp_path))
    assert 'line 3' in str(e.value) and 'line 8' in str(e.value)

# --- bad per-attribute text files -----------------------------------------------------------------------------

def test_txt_missing_attribute_file(tmp_path, labels):
    d = write_txt_form(labels, tmp_path)
    (d/'imgListTrainRegression_Symmetry.txt').unlink()
    with pytest.raises(AADBLabelError, match=r"split Train has no label file for \['Symmetry'\]"): read_aadb_labels(d)

def test_txt_attribute_file_lacks_an_image(tmp_path, labels):
    d = write_txt_form(labels, tmp_path)
    f = d/'imgListTrainRegression_Light.txt'
    f.write_text(''.join(f.read_text().splitlines(True)[1:]))
    with pytest.raises(AADBLabelError, match='imgListTrainRegression_Light.txt lacks') as e: read_aadb_labels(d)
    assert 'img_train_0.jpg' in str(e.value)

def test_txt_attribute_file_has_extra_image(tmp_path, labels):
    d = write_txt_form(labels, tmp_path)
    f = d/'imgListTrainRegression_Light.txt'
    f.write_text(f.read_text() + 'stray.jpg 0.2\n')
    with pytest.raises(AADBLabelError, match='has images not in') as e: read_aadb_labels(d)
    assert 'stray.jpg' in str(e.value)

@pytest.mark.parametrize('line,msg', [('img_train_0.jpg\n', 'expected `<image file> <value>`'),
                                      ('img_train_0.jpg 0.2 extra\n', 'expected `<image file> <value>`')])
def test_txt_malformed_line(tmp_path, labels, line, msg):
    d = write_txt_form(labels, tmp_path)
    f = d/'imgListTrainRegression_Light.txt'
    lines = f.read_text().splitlines(True); lines[0] = line
    f.write_text(''.join(lines))
    with pytest.raises(AADBLabelError, match=msg) as e: read_aadb_labels(d)
    assert 'imgListTrainRegression_Light.txt, line 1' in str(e.value)

def test_txt_duplicate_and_nan_and_empty(tmp_path, labels):
    d = write_txt_form(labels, tmp_path)
    f = d/'imgListTrainRegression_score.txt'
    orig = f.read_text()
    f.write_text(orig + orig.splitlines(True)[0])
    with pytest.raises(AADBLabelError, match='listed twice'): read_aadb_labels(d)
    f.write_text(orig.replace(orig.split()[1], 'NaN', 1))
    with pytest.raises(AADBLabelError, match=r'score_?.txt, line 1: .*NaN'): read_aadb_labels(d)
    f.write_text('')
    with pytest.raises(AADBLabelError, match='the file is empty'): read_aadb_labels(d)

# --- overlaps -------------------------------------------------------------------------------------------------

def test_valid_test_leak_dropped_with_warning(tmp_path, labels):
    leaky = pd.concat([labels, labels[labels.split == 'test'].head(2).assign(split='valid')], ignore_index=True)
    d = write_csv_form(leaky, tmp_path)
    with pytest.warns(UserWarning, match='Dropped 2 validation image'):
        df = read_aadb_labels(d)
    assert (df.split == 'valid').sum() == 3 and (df.split == 'test').sum() == 3
    with warnings.catch_warnings():
        warnings.simplefilter('error')
        assert (read_aadb_labels(d, keep_leak=True).split == 'valid').sum() == 5

def test_train_test_overlap_warns_and_keeps(tmp_path, labels):
    both = pd.concat([labels, labels[labels.split == 'test'].head(1).assign(split='train')], ignore_index=True)
    with pytest.warns(UserWarning, match='1 image.*both train and test'):
        df = read_aadb_labels(write_csv_form(both, tmp_path))
    assert len(df) == len(both)

def test_validate_labels_on_a_dataframe(labels):
    assert validate_labels(labels) is labels
    bad = labels.copy(); bad.loc[4, 'score'] = np.nan
    with pytest.raises(AADBLabelError, match='labels, row 4: score'): validate_labels(bad)
    with pytest.raises(AADBLabelError, match=r"missing column\(s\) \['Light'\]"): validate_labels(labels.drop(columns='Light'))

# --- shipped labels -------------------------------------------------------------------------------------------

SHIPPED = {'imgListTrainRegression_.csv': '07307500e98dda012ec6baa49b9b4abe8152d4189d692d1461d1ee7758da0104',
           'imgListValidationRegression_.csv': 'eb9a9001762efe7fb353ce26445332577c9e1e890f0746e2a10db07a34db4659',
           'imgListTestNewRegression_.csv': '63c355e8dac4e90d11c3401d146bc27982245d4b4d5572b4019924ab82ef7d5b'}

def test_shipped_labels_checksums_and_provenance():
    d = aadb_label_dir()
    for name, sha in SHIPPED.items():
        assert hashlib.sha256((d/name).read_bytes()).hexdigest() == sha, name
        assert sha in (d/'README.md').read_text()
    assert 'MIT License' in (d/'LICENSE').read_text()
    shared = Path(__file__).resolve().parents[2]/'shared'/'data'/'aadb'
    if shared.is_dir():  # development/CI: byte-identical to the provided copy
        for name in SHIPPED: assert (d/name).read_bytes() == (shared/name).read_bytes()

def test_shipped_labels_counts_and_leak(quiet):
    df = aadb_labels()
    assert split_sizes(df).to_dict() == {'train': 8458, 'valid': 373, 'test': 1000}
    assert (aadb_labels(keep_leak=True).split == 'valid').sum() == 500
    assert not set(df[df.split == 'valid'].fname) & set(df[df.split == 'test'].fname)

def test_shipped_label_statistics_match_the_dataset_readme(quiet):
    st = label_stats(aadb_labels())
    expected = {'Content': .68, 'Light': .57, 'ColorHarmony': .56, 'Object': .54, 'VividColor': .51, 'DoF': .44,
                'RuleOfThirds': .36, 'BalacingElements': .33, 'MotionBlur': .22, 'Symmetry': .13, 'Repetition': .10}
    for k, v in expected.items(): assert abs(st.loc[k, 'corr_with_score'] - v) < 0.006, k
    c = label_corr(aadb_labels())
    assert c.shape == (12, 12) and np.allclose(c.to_numpy(), c.to_numpy().T) and np.allclose(np.diag(c), 1)
