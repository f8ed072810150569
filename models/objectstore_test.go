package models_test

import (
	"errors"
	"testing"

	"github.com/abscopal/abscopal/internal/testkit/registrytest"
	"github.com/abscopal/abscopal/models"
)

// TestObjectRegistry runs the object-store registry's contract on the
// in-memory store; s3store runs it on a real S3-compatible server.
func TestObjectRegistry(t *testing.T) {
	registrytest.Contract(t, func(t *testing.T) *models.Registry {
		return &models.Registry{Store: &registrytest.MemStore{}, Actor: "test"}
	})
}

// TestStoreWithoutConditionalWrites: a store that ignores If-None-Match
// gets nothing written, with an error that says why.
func TestStoreWithoutConditionalWrites(t *testing.T) {
	store := &registrytest.MemStore{IgnoreConditions: true}
	reg := &models.Registry{Store: store}
	if err := reg.CheckWritable("m"); !errors.Is(err, models.ErrNoConditionalWrites) {
		t.Errorf("CheckWritable: %v", err)
	}
	if _, err := reg.Publish("m", map[string][]byte{"bundle.json": []byte("{}")}); !errors.Is(err, models.ErrNoConditionalWrites) {
		t.Errorf("Publish: %v", err)
	}
	if objs, _ := store.List(t.Context(), ""); len(objs) != 0 {
		t.Errorf("%d objects left behind: %v", len(objs), objs)
	}
}
