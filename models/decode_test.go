package models_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/abscopal/abscopal/features"
	"github.com/abscopal/abscopal/internal/testkit/modeltest"
	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/train"
)

// TestDecodeBundleOnce: a bundle is decoded in one pass and its format
// checked after; the format is still what a bundle of another format is
// refused for, whether or not the rest of it decodes; its model is decoded
// on the way and keeps its bytes; and a bundle or a model envelope in
// another order than Encode's decodes to the same classifier.
func TestDecodeBundleOnce(t *testing.T) {
	b := modeltest.Files(t, "m", features.BuiltinSpec("objective_response"), 300, 3)["bundle.json"]
	m, err := models.DecodeBundle(b)
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		t.Fatal(err)
	}
	with := func(key, value string) []byte {
		c := map[string]json.RawMessage{}
		for k, v := range raw {
			c[k] = v
		}
		c[key] = json.RawMessage(value)
		out, _ := json.Marshal(c)
		return out
	}
	for _, tc := range []struct {
		name string
		b    []byte
		want string
	}{
		{"another format", with("format", "99"), "format 99; this abscopal reads format"},
		{"another format that does not decode", with("pipeline", `"a string"`), ""}, // format unchanged: the decode error
		{"another format, its fields changed", func() []byte {
			c := with("format", "99")
			return bytes.Replace(c, []byte(`"pipeline":`), []byte(`"pipeline":"x","old":`), 1)
		}(), "format 99"},
		{"an unknown algorithm", with("model", `{"algo":"perceptron","model":{}}`), "perceptron"},
		{"no model", with("model", `{"algo":"logistic"}`), "no model"},
		{"not an object", with("model", `[1]`), "not a JSON object"},
	} {
		_, err := models.DecodeBundle(tc.b)
		if err == nil || !errors.Is(err, models.ErrBundle) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want ErrBundle saying %q", tc.name, err, tc.want)
		}
	}

	// The model decoded on the way keeps its bytes, as a bundle written
	// again carries them; a bundle with its pipeline after its model (keys
	// sorted) reads the model whole, then decodes it: the same classifier.
	if !bytes.Equal(m.Bundle.Model, raw["model"]) {
		t.Errorf("the bundle's model bytes differ from the file's:\n%.80s\n%.80s", m.Bundle.Model, raw["model"])
	}
	sorted, err := models.DecodeBundle(with("name", string(raw["name"])))
	if err != nil {
		t.Fatal(err)
	}
	var compact bytes.Buffer // json.Marshal compacts the raw values it writes
	if err := json.Compact(&compact, raw["model"]); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(sorted.Bundle.Model, compact.Bytes()) {
		t.Error("with its keys sorted, the bundle's model bytes differ from the file's")
	}
	viaBytes, _ := models.Encode(sorted.Classifier)
	if onTheWay, _ := models.Encode(m.Classifier); !bytes.Equal(viaBytes, onTheWay) {
		t.Error("the model decoded on the way differs from the one decoded from its bytes")
	}

	// The model before its algorithm: the slower way, the same classifier.
	var env struct {
		Algo  string          `json:"algo"`
		Model json.RawMessage `json:"model"`
	}
	if err := json.Unmarshal(raw["model"], &env); err != nil {
		t.Fatal(err)
	}
	reordered := []byte(`{"model":` + string(env.Model) + `,"algo":"` + env.Algo + `"}`)
	c, err := models.Decode(reordered)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := models.Encode(c)
	want, _ := models.Encode(m.Classifier)
	if !bytes.Equal(again, want) {
		t.Error("the reordered envelope decodes to another classifier")
	}
}

// BenchmarkDecodeBundle decodes a forest's bundle (the largest kind: 101
// trees on 2,000 synthetic patients, about 2 MB of JSON), beside the floor
// of any decoding of it, one json.Unmarshal into the Bundle struct, which
// leaves the model undecoded: their ratio is the cost of reading a model
// on top of reading its bytes once (a server's cold start and reloads).
func BenchmarkDecodeBundle(b *testing.B) {
	bundle := modeltest.FilesWith(b, "forest", features.BuiltinSpec("objective_response"), 2000, 3,
		train.Options{Algo: "forest", Folds: 3, Seed: 3, Bootstrap: 10})["bundle.json"]
	b.Run("DecodeBundle", func(b *testing.B) {
		b.SetBytes(int64(len(bundle)))
		for b.Loop() {
			if _, err := models.DecodeBundle(bundle); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("floor", func(b *testing.B) {
		b.SetBytes(int64(len(bundle)))
		for b.Loop() {
			var bd models.Bundle
			if err := json.Unmarshal(bundle, &bd); err != nil {
				b.Fatal(err)
			}
		}
	})
}
