package main

import (
	"context"
	"fmt"

	"github.com/abscopal/abscopal/models"
	"github.com/abscopal/abscopal/s3store"
)

// registryFlagHelp describes --registry wherever a command takes one.
const registryFlagHelp = "registry: a directory, or s3://BUCKET/PREFIX in an S3-compatible store (endpoint from AWS_ENDPOINT_URL, credentials from the environment or ~/.aws/credentials)"

// openRegistry opens the registry at location: a directory, or an object
// store when location is an s3:// URL (reached once here, so that a wrong
// endpoint, bucket or credential is the first error).
func openRegistry(ctx context.Context, location string) (*models.Registry, error) {
	if !s3store.IsURL(location) {
		return &models.Registry{Dir: location}, nil
	}
	st, err := s3store.Open(ctx, location, s3store.Config{})
	if err != nil {
		return nil, fmt.Errorf("--registry: %w", err)
	}
	return &models.Registry{Dir: location, Store: st}, nil
}
