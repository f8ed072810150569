package features_test

import (
	"fmt"

	"github.com/abscopal/abscopal/features"
)

// A researcher's spec names the columns of any table, their kinds, the
// target and the transforms; ParseSpec checks it as a whole.
func ExampleParseSpec() {
	spec, err := features.ParseSpec("chowell.spec.yaml", []byte(`
id: sample_id
target: {column: response, positive: 1}
features:
  - column: tmb
    kind: numeric
    transforms: [log1p, standardize]
  - column: nlr
    kind: numeric
    transforms: [{clip: [0, 30]}, standardize]
  - column: cancer_type
    kind: categorical
`))
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("target:", spec.Target, "- columns read:", spec.Columns())
	_, err = features.ParseSpec("typo.yaml", []byte("id: sample_id\ntarget: {column: response, positive: 1}\nfeatures:\n  - column: tmb\n    knd: numeric\n"))
	fmt.Println(err)
	// Output:
	// target: response = 1 - columns read: [sample_id response tmb nlr cancer_type]
	// spec typo.yaml: cannot be read:
	//   line 5: unknown key "knd" in a feature (column, derived, kind, transforms, alpha_beta_gy, unit, description)
}
