"Per-rater ratings: the mapped reader, batches, batch consistency (Kong et al. Sect. 3), Table 6's dropped and model rows."
import warnings
import numpy as np, pandas as pd, pytest
from scipy.stats import permutation_test, spearmanr
from aaacov.data import ATTRIBUTES
from aaacov.synthetic import synthetic_dataset, _plan
from aaacov.interpret import load_ratings, rating_batches, batch_consistency, human_consistency

THEIRS = {'fname': 'ImageName', 'rater': 'WorkerId', 'score_rating': 'Rating', 'DoF': 'Answer.dof', 'Light': 'Answer.light'}
MAPPING = {v: k for k, v in THEIRS.items()}

def plan_ratings(plan):
    "The per-rater table of a planned synthetic set (what its ratings.csv holds), without rendering the images."
    k = plan['who'].shape[1]
    r = pd.DataFrame({'fname': np.repeat(plan['fnames'], k), 'rater': plan['raters'].rater.to_numpy()[plan['who'].ravel()],
                      'score_rating': plan['ratings'].ravel()})
    for j, a in enumerate(ATTRIBUTES): r[a] = plan['votes'][:, :, j].ravel()
    return r

@pytest.fixture(scope='module')
def tiny(): return load_ratings(synthetic_dataset('tiny', progress=False))

@pytest.fixture(scope='module')
def small(): return plan_ratings(_plan(2000, 0, False))   # the small set's ratings.csv (seed 0)

def test_plan_ratings_is_the_file(tiny):
    pd.testing.assert_frame_equal(plan_ratings(_plan(64, 0, False)), tiny, check_dtype=False)

@pytest.mark.parametrize('name,write', [
    ('theirs.csv', lambda df, p: df.to_csv(p, index=False)),
    ('theirs.txt', lambda df, p: df.to_csv(p, sep='\t', index=False)),
    ('aligned.txt', lambda df, p: p.write_text('\n' + df.to_string(index=False) + '\n')),   # blank-separated, padded
    ('semicolons.csv', lambda df, p: df.to_csv(p, sep=';', index=False)),
])
def test_mapped_reader_round_trip(tiny, tmp_path, name, write):
    write(tiny.rename(columns=THEIRS), tmp_path/name)
    pd.testing.assert_frame_equal(load_ratings(tmp_path/name, columns=MAPPING), tiny)

def test_reader_keeps_our_names(tiny, tmp_path):
    tiny.to_csv(tmp_path/'ours.txt', sep='\t', index=False)
    pd.testing.assert_frame_equal(load_ratings(tmp_path/'ours.txt'), tiny)

HEAD = 'ImageName,WorkerId,Rating,Answer.dof,Answer.light\n'
@pytest.mark.parametrize('content,columns,message', [
    ('', MAPPING, 'empty file'),
    ('\n  \n', MAPPING, 'empty file'),
    (b'PK\x03\x04\x00\x00\x14\x00binary', MAPPING, 'not a text table'),
    ('synth_0_00000.jpg,R0003,2,0,1\n', None, 'no header line'),
    ('synth_0_00000.jpg,R0003,2,0,1\n', MAPPING, 'not found (its first line looks like data'),
    ('ImageName,Worker,Rating,Answer.dof,Answer.light\na.jpg,R1,3,0,0\n', MAPPING,
     "mapped column(s) ['WorkerId'] not found; columns found: ['ImageName', 'Worker', 'Rating', 'Answer.dof', 'Answer.light']"),
    ('fname,who,score_rating\na.jpg,R1,3\n', None, "missing column(s) ['rater']; found ['fname', 'who', 'score_rating']"),
    (HEAD + 'a.jpg,R1,3,0,0\n\nb.jpg,R1,high,0,0\n', MAPPING, "line 4: Rating (our score_rating) is 'high', not a number"),
    (HEAD + 'a.jpg,R1,3,0,0\na.jpg,R2,3,yes,0\n', MAPPING, "line 3: Answer.dof (our DoF) is 'yes', not a number"),
    (HEAD + 'a.jpg,R1,3,0,0\na.jpg,,3,0,0\n', MAPPING, 'line 3: empty fname, rater or score_rating'),
    (HEAD + 'a.jpg,R1,3,0,0\na.jpg,R1,4,0,0\n', MAPPING, 'line 3: rater R1 rated a.jpg twice'),
    (HEAD, MAPPING, 'no ratings below the header line'),
    (HEAD + 'a.jpg,R1,3,0,0,7\n', MAPPING, 'a line has more fields than the header line'),
    (HEAD + 'a.jpg,R1,3,0,0\nb.jpg,R1,3,0,0,7\n', MAPPING, 'Expected 5 fields in line 3, saw 6'),
])
def test_reader_errors(tmp_path, content, columns, message):
    p = tmp_path/'ratings.txt'
    p.write_bytes(content) if isinstance(content, bytes) else p.write_text(content)
    with pytest.raises(ValueError) as e: load_ratings(p, columns=columns)
    msg = str(e.value)
    assert message in msg and str(p) in msg and '\n' not in msg, msg
    assert e.value.__cause__ is None and (e.value.__context__ is None or e.value.__suppress_context__)

def test_reader_refuses_bad_mappings(tiny, tmp_path):
    tiny.to_csv(tmp_path/'r.csv', index=False)
    with pytest.raises(ValueError, match=r"unknown name\(s\) \('score_rating': 'score'\)"): load_ratings(tmp_path/'r.csv', columns={'score_rating': 'score'})
    with pytest.raises(ValueError, match=r"several of your columns to \['rater'\]"): load_ratings(tmp_path/'r.csv', columns={'DoF': 'rater', 'Light': 'rater'})
    with pytest.raises(ValueError, match="has a column named 'rater' and another mapped to it"): load_ratings(tmp_path/'r.csv', columns={'DoF': 'rater'})

def test_rating_batches_on_synthetic(small):
    plan = _plan(2000, 0, False)
    b = rating_batches(small)
    assert list(b.index) == plan['fnames']
    # the generator draws 5 raters per batch of 10 consecutive images; batches that drew the same five are one batch here
    drawn = [tuple(sorted(plan['raters'].rater.to_numpy()[w])) for w in plan['who']]
    assert b.tolist() == pd.factorize(pd.Series(drawn))[0].tolist()
    assert all(len(set(b.iloc[i:i + 10])) == 1 for i in range(0, 2000, 10))
    sizes = b.value_counts()
    assert set(sizes) <= {10, 20} and (sizes == 10).mean() > 0.95
    assert (small.assign(b=small.fname.map(b)).groupby('b').rater.nunique() == 5).all()

def test_rating_batches_uses_a_batch_column(small):
    given = small.assign(batch=small.fname.map({f: i // 50 for i, f in enumerate(small.fname.unique())}))
    assert rating_batches(given).nunique() == 40
    with pytest.raises(ValueError, match='is in batches'): rating_batches(given.assign(batch=np.arange(len(given)) % 3))
    with pytest.raises(ValueError, match='has no batch'): rating_batches(given.assign(batch=np.nan))

def _random_ratings(n_batches, seed=0, m=5, n=10):
    rng = np.random.default_rng(seed)
    return pd.DataFrame({'fname': np.repeat([f'i{i}' for i in range(n_batches * n)], m),
                         'rater': [f'b{i // n}r{k}' for i in range(n_batches * n) for k in range(m)],
                         'score_rating': rng.integers(1, 6, n_batches * n * m)})

def test_random_ratings_share_at_most_fdr():
    for seed in (0, 1):
        s = batch_consistency(_random_ratings(300, seed)).attrs['summary']
        assert s['batches'] == s['tested'] == 300 and s['share significant'] <= 0.1, s

@pytest.mark.parametrize('taste', [True, False])
def test_synthetic_share_is_high(taste):
    with warnings.catch_warnings():
        warnings.simplefilter('ignore')
        bc = batch_consistency(plan_ratings(_plan(2000, 0, False, taste=taste)))
    s = bc.attrs['summary']
    assert s['share significant'] > 0.6 and s['median mean rho'] > 0.25, s
    assert bc.significant.sum() == s['significant'] and (bc.p_bh >= bc.p).all()

def test_pvalues_against_scipy(small):
    b = rating_batches(small)
    one = small[small.fname.isin(b.index[b == 3])]
    bc = batch_consistency(one, n_resamples=9999)
    mat = one.pivot(index='rater', columns='fname', values='score_rating').to_numpy(float)
    def mean_rho(*x, axis=-1): c = spearmanr(np.stack(x), axis=1)[0]; return (c.sum() - len(x)) / (len(x) * (len(x) - 1))
    ref = permutation_test(tuple(mat), mean_rho, permutation_type='pairings', alternative='greater', n_resamples=9999,
                           vectorized=False, rng=1)
    assert bc.mean_rho.iat[0] == pytest.approx(ref.statistic, abs=1e-12)
    assert abs(bc.p.iat[0] - ref.pvalue) < 4 * np.sqrt(2 * max(ref.pvalue, 1e-3) / 10000) + 1e-4
    pairs = bc.attrs['pairs']
    assert len(pairs) == 10
    pivot = one.pivot(index='rater', columns='fname', values='score_rating')
    for p in pairs.itertuples():
        s = spearmanr(pivot.loc[p.rater_a], pivot.loc[p.rater_b], alternative='greater')
        assert p.rho == pytest.approx(s.statistic, abs=1e-12) and p.p == pytest.approx(s.pvalue, abs=1e-12)

def test_untestable_batches_are_counted():
    rows = [{'fname': f'a{i}', 'rater': f'r{k}', 'score_rating': float(i % 5 + k * (i % 2))} for i in range(10) for k in range(3)]
    rows += [{'fname': f'a{i}', 'rater': 'flat', 'score_rating': 3.0} for i in range(10)]          # constant: out of its batch
    rows += [{'fname': f'b{i}', 'rater': f's{k}', 'score_rating': float(i + k)} for i in range(2) for k in range(2)]
    rows += [{'fname': f'c{i}', 'rater': 'alone', 'score_rating': float(i)} for i in range(5)]
    with pytest.warns(UserWarning, match='1 raters with constant ratings left out'):
        bc = batch_consistency(pd.DataFrame(rows))
    assert bc.left_out.tolist() == ['', 'fewer than 3 images rated by all its raters', 'one rater']
    s = bc.attrs['summary']
    assert s['tested'] == 1 and s['raters left out of a tested batch (constant ratings)'] == 1 and s['pairs left out'] == 3 + 1
    with pytest.raises(ValueError, match='min_images must be at least 3'): batch_consistency(pd.DataFrame(rows), min_images=2)
    with pytest.raises(ValueError, match="no 'Nope' column"): batch_consistency(pd.DataFrame(rows), 'Nope')

def test_fast_enough_for_aadb():
    import time
    t = time.perf_counter(); batch_consistency(_random_ratings(1000, 2)); t = time.perf_counter() - t
    assert t < 20, t                                            # ~3 s on a 2-core machine; a generous bound for busy CI

def test_human_consistency_shows_dropped_and_model(tiny):
    rows = [{'fname': f'i{i}', 'rater': f'r{k}', 'score_rating': float((i * (k + 1)) % 5)} for i in range(12) for k in range(4)]
    rows += [{'fname': f'i{i}', 'rater': 'flat', 'score_rating': 2.0} for i in range(12)]
    with pytest.warns(UserWarning, match='1 of 5 raters left out'):
        hc = human_consistency(pd.DataFrame(rows), thresholds=(0,))
    assert hc.loc['left out: constant ratings', 'raters'] == 1
    assert hc.attrs['dropped_raters'].values.tolist() == [['flat', 12, 'constant ratings']]
    mean = tiny.groupby('fname').score_rating.mean()
    pred = pd.Series(-mean.to_numpy(), index=mean.index)                   # a perfectly wrong model
    hm = human_consistency(tiny, thresholds=(0, 100, 200), model=pred)
    assert hm.loc['model', 'SRCC vs label (Kong)'] == pytest.approx(-1.0) and hm.attrs['model']['images'] == 64
    assert list(hm.index) == ['> 0 images', '> 100 images', '> 200 images', 'model', 'left out: none']
    with pytest.raises(ValueError, match='indexed by fname'): human_consistency(tiny, model=pred.to_numpy())
