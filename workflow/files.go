package workflow

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/abscopal/abscopal/card"
	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/plots"
	"github.com/abscopal/abscopal/train"
)

// Files renders a bundle's files: bundle.json, card.md, calibration.svg,
// decision_curve.svg and, after a stability analysis, instability.svg.
func Files(b *models.Bundle, res *train.Result) (map[string][]byte, error) {
	js, err := json.MarshalIndent(b, "", "  ")
	if err != nil {
		return nil, err
	}
	svg, err := plots.CalibrationSVG(res.Metrics, "Calibration (cross-validated): "+b.Name)
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{
		"bundle.json":     append(js, '\n'),
		"card.md":         []byte(card.Markdown(b, res)),
		"calibration.svg": svg,
	}
	if len(res.Metrics.DecisionCurve) > 0 {
		if files["decision_curve.svg"], err = plots.DecisionCurveSVG(res.Metrics, "Decision curve (cross-validated): "+b.Name); err != nil {
			return nil, err
		}
	}
	if res.Instability != nil {
		if files["instability.svg"], err = plots.InstabilitySVG(res.Instability, fmt.Sprintf("Prediction instability: %s\n%d bootstrap models", b.Name, res.Instability.Bootstraps)); err != nil {
			return nil, err
		}
	}
	if len(res.Bootstrap) > 0 {
		if files[models.BootstrapFile], err = models.EncodeBootstrap(res.Bootstrap); err != nil {
			return nil, err
		}
	}
	for _, s := range res.Survival {
		title := fmt.Sprintf("%s by out-of-fold prediction: %s", strings.ToUpper(s.Endpoint), b.Name)
		if files[plots.SurvivalFile(s.Endpoint)], err = plots.SurvivalSVG(s, title); err != nil {
			return nil, err
		}
	}
	return files, nil
}

// RecalibratedFiles renders the recalibrated version's files from those of the version
// it came from (original): bundle.json; card.md, a recalibration section
// before the original card, whose figures stay those of the original's own
// calibration; the original's calibration.svg, decision_curve.svg and
// instability.svg, to which that card refers; and recalibration.svg, the
// calibration of the original on the new file, which made the
// recalibration needed.
func RecalibratedFiles(r *train.Recalibrated, original map[string][]byte) (map[string][]byte, error) {
	js, err := json.MarshalIndent(r.Bundle, "", "  ")
	if err != nil {
		return nil, err
	}
	rc := r.Bundle.Recalibrated
	svg, err := plots.CalibrationSVG(r.Before, fmt.Sprintf("%s on %s, before recalibration", rc.From, rc.DataFile))
	if err != nil {
		return nil, err
	}
	files := map[string][]byte{
		"bundle.json":       append(js, '\n'),
		"card.md":           []byte(card.Recalibration(r, original[models.BootstrapFile] != nil) + string(original["card.md"])),
		"calibration.svg":   original["calibration.svg"],
		"recalibration.svg": svg,
	}
	// The original card's other plots, whichever it has: a decision curve
	// (versions made before it was drawn have none), the instability plot,
	// the survival curves.
	for name, b := range original {
		if strings.HasSuffix(name, ".svg") && files[name] == nil {
			files[name] = b
		}
	}
	return files, nil
}
