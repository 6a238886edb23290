"""Label files on disk in odd states: errors naming file and the file's own line (blank lines, CRLF, BOM, quoted line breaks),
duplicated columns, overlaps, several folders; the shipped files' checksums.
What nbs/00_data.ipynb checks (both forms, validate_labels, the leak, split sizes, label statistics) is not repeated here."""
import hashlib
from pathlib import Path
import pandas as pd, pytest
from aaacov.data import TARGETS, AADBLabelError, read_aadb_labels, aadb_label_dir
from conftest import write_csv_form, write_txt_form

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
    ('Light', '', 'is empty; if labels were withheld on purpose'), ('Light', 'nan', 'NaN or infinite'), ('score', 'inf', 'NaN or infinite'),
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

# --- the line an error names is the file's own line (issue 13: the count drifted) --------------------------------

def _bad_score_at(lines, i):
    "`lines` (no line ends) with the score of line index `i` made 'x'."
    row = lines[i].split(','); row[-1] = 'x'; return lines[:i] + [','.join(row)] + lines[i + 1:]

@pytest.mark.parametrize('name,make,want', [
    ('plain', lambda L: '\n'.join(_bad_score_at(L, 3)) + '\n', 4),
    ('blank lines between rows', lambda L: '\n'.join(_bad_score_at(L[:2] + ['', '', ''] + L[2:], 6)) + '\n', 7),
    ('blank lines above the header', lambda L: '\n\n' + '\n'.join(_bad_score_at(L, 3)) + '\n', 6),
    ('lines of spaces', lambda L: '\n'.join(_bad_score_at(L[:2] + ['   '] + L[2:], 4)) + '\n', 5),
    ('CRLF', lambda L: '\r\n'.join(_bad_score_at(L, 3)) + '\r\n', 4),
    ('CR (old Mac)', lambda L: '\r'.join(_bad_score_at(L, 3)) + '\r', 4),
    ('BOM', lambda L: '\ufeff' + '\n'.join(_bad_score_at(L, 3)) + '\n', 4),
    ('BOM + CRLF + blank', lambda L: '\ufeff' + '\r\n'.join(_bad_score_at(L[:1] + [''] + L[1:], 4)) + '\r\n', 5),
    ('quoted name over two lines', lambda L: '\n'.join(_bad_score_at(L[:1] + ['"two\nlines.jpg"' + L[1][L[1].index(','):]] + L[2:], 3)) + '\n', 5),
    ('form feed and U+2028 in a name', lambda L: '\n'.join(_bad_score_at(L[:1] + ['"a\x0cb\u2028c.jpg"' + L[1][L[1].index(','):]] + L[2:], 3)) + '\n', 4),
    ('no final newline', lambda L: '\n'.join(_bad_score_at(L, len(L) - 1)), 7),
])
def test_csv_error_names_the_files_own_line(tmp_path, labels, name, make, want):
    d = write_csv_form(labels, tmp_path); f = d/'imgListTrainRegression_.csv'
    f.write_bytes(make(f.read_text().splitlines()).encode('utf-8'))
    with pytest.raises(AADBLabelError, match=f"{f.name}, line {want}: column 'score' holds 'x'"): read_aadb_labels(d)

def test_csv_comment_line_is_refused_at_its_line(tmp_path, labels):
    d = write_csv_form(labels, tmp_path); f = d/'imgListTrainRegression_.csv'
    L = f.read_text().splitlines(True); f.write_text(''.join(L[:3] + ['# checked by Ann\n'] + L[3:]))
    with pytest.raises(AADBLabelError, match=f'{f.name}, line 4: not a readable CSV row: 1 field'): read_aadb_labels(d)

def test_csv_good_file_with_odd_line_ends_reads_the_same(tmp_path, labels):
    want = read_aadb_labels(write_csv_form(labels, tmp_path/'plain'))
    d = write_csv_form(labels, tmp_path/'odd')
    for f in d.glob('*.csv'): f.write_bytes(b'\xef\xbb\xbf\r\n' + f.read_bytes().replace(b'\n', b'\r\n\r\n'))
    pd.testing.assert_frame_equal(read_aadb_labels(d), want)

@pytest.mark.parametrize('col', ['score', 'Light', 'ImageFile'])
def test_csv_duplicated_column_is_refused(tmp_path, labels, col):
    d = write_csv_form(labels, tmp_path); f = d/'imgListTrainRegression_.csv'
    L = f.read_text().splitlines()
    f.write_text('\n'.join([L[0] + f',{col}'] + [l + ',0.5' for l in L[1:]]) + '\n')
    with pytest.raises(AADBLabelError, match=f"{f.name}, line 1: column '{col}' appears 2 times in the header") as e: read_aadb_labels(d)
    assert str(f) in str(e.value) and 'Keep one' in str(e.value)

def test_csv_column_duplicated_only_by_spaces_is_refused(tmp_path, labels):
    d = write_csv_form(labels, tmp_path); f = d/'imgListTrainRegression_.csv'
    L = f.read_text().splitlines()
    f.write_text('\n'.join([L[0] + ', score '] + [l + ',0.5' for l in L[1:]]) + '\n')
    with pytest.raises(AADBLabelError, match="column 'score' appears 2 times"): read_aadb_labels(d)

def test_csv_not_utf8(tmp_path, labels):
    d = write_csv_form(labels.assign(fname=labels.fname.str.replace('img', 'café')), tmp_path); f = d/'imgListTrainRegression_.csv'
    f.write_bytes(f.read_text().encode('latin-1'))
    with pytest.raises(AADBLabelError, match='not a readable CSV \\(not UTF-8 text') as e: read_aadb_labels(d)
    assert str(f) in str(e.value)

@pytest.mark.parametrize('sep', ['\x0c', '\x0b', '\x1c', '\x1d', '\x1e', '\x85', '\u2028', '\u2029'])
def test_txt_line_count_ignores_unicode_line_separators(tmp_path, labels, sep):
    "str.splitlines() breaks lines at these, an editor does not: the named line must be the editor's."
    d = write_txt_form(labels, tmp_path); f = d/'imgListTrainRegression_Light.txt'
    L = f.read_text().splitlines(True)
    L[0] = L[0].rstrip('\n') + f' {sep}\n'; L[3] = L[3].split()[0] + ' x\n'
    f.write_text(''.join(L), newline='')
    with pytest.raises(AADBLabelError, match=f"{f.name}, line 4: column 'Light' holds 'x'"): read_aadb_labels(d)

def test_txt_not_utf8(tmp_path, labels):
    d = write_txt_form(labels, tmp_path); f = d/'imgListTrainRegression_Light.txt'
    f.write_bytes(f.read_bytes() + 'caf\xe9.jpg 0.1\n'.encode('latin-1'))
    with pytest.raises(AADBLabelError, match=f'{f.name}: not UTF-8 text'): read_aadb_labels(d)

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

def test_train_test_overlap_warns_and_keeps(tmp_path, labels):
    both = pd.concat([labels, labels[labels.split == 'test'].head(1).assign(split='train')], ignore_index=True)
    with pytest.warns(UserWarning, match='1 image.*both train and test'):
        df = read_aadb_labels(write_csv_form(both, tmp_path))
    assert len(df) == len(both)

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

