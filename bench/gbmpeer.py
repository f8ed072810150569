"""xgboost with abscopal's GBM settings, as bench/cv and bench/heldout record
them in ours.json ("gbm"), early stopping on a held-out share of the training
rows and the refit on every row included: the like-for-like peer of
abscopal's gbm."""
import xgboost
from sklearn.model_selection import train_test_split


def describe(o):
    return (f"xgboost hist with abscopal's gbm settings ({o['trees']} trees at most, depth {o['max_depth']}, "
            f"eta {o['learning_rate']}, L2 {o['lambda']}, min child weight {o['min_child_weight']}, "
            f"subsample {o['subsample']}, colsample {o['colsample']}, early stopping {o['early_stopping']}"
            f"{', then refit on all rows' if o.get('refit_all') else ''})")


def fit(o, X, y):
    params = dict(n_estimators=o["trees"], max_depth=o["max_depth"], learning_rate=o["learning_rate"],
                  reg_lambda=o["lambda"], min_child_weight=o["min_child_weight"], subsample=o["subsample"],
                  colsample_bytree=o["colsample"], max_bin=o["max_bins"], tree_method="hist",
                  random_state=0, n_jobs=2)
    if not o["early_stopping"]:
        return xgboost.XGBClassifier(**params).fit(X, y)
    Xa, Xv, ya, yv = train_test_split(X, y, test_size=o["validation_share"], stratify=y, random_state=0)
    m = xgboost.XGBClassifier(early_stopping_rounds=o["early_stopping"], eval_metric="logloss", **params)
    m.fit(Xa, ya, eval_set=[(Xv, yv)], verbose=False)
    if not o.get("refit_all"):
        return m
    # As abscopal's gbm: grown again on every row for the rounds early stopping chose.
    params["n_estimators"] = m.best_iteration + 1
    return xgboost.XGBClassifier(**params).fit(X, y)
