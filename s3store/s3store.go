// Package s3store keeps a model registry in an S3-compatible object store
// (AWS S3, MinIO, Ceph RGW, SeaweedFS), through MinIO's Go client.
//
// Credentials come from the standard places, never from flags: the
// environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN;
// or MinIO's MINIO_ROOT_USER/MINIO_ROOT_PASSWORD), the shared credentials
// file (AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials, AWS_PROFILE), and
// the platform's role (EC2/ECS instance roles, Kubernetes web identity).
// The endpoint is AWS_ENDPOINT_URL_S3 or AWS_ENDPOINT_URL (AWS's own
// variables for another endpoint), else AWS S3; the region AWS_REGION or
// AWS_DEFAULT_REGION.
package s3store

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"os"
	"strings"

	"github.com/abscopal/abscopal/models"
	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"
)

// Store is a bucket and a prefix in an S3-compatible store. It implements
// models.ObjectStore.
type Store struct {
	client *minio.Client
	bucket string
	prefix string // "" or ending in '/'
	url    string
}

// Config is what Open needs besides the URL. Its zero value reads the
// environment (Getenv os.Getenv).
type Config struct {
	// Getenv reads the environment; nil is os.Getenv.
	Getenv func(string) string
	// Transport, when set, carries the requests (tests, proxies).
	Transport http.RoundTripper
}

// IsURL reports whether location names an object store rather than a
// directory.
func IsURL(location string) bool { return strings.HasPrefix(location, "s3://") }

// ErrBadURL is a registry location that is not s3://bucket[/prefix].
var ErrBadURL = errors.New("an object store registry is s3://BUCKET or s3://BUCKET/PREFIX")

// Open returns the store at rawURL (s3://bucket/prefix) and checks that the
// bucket can be reached: a wrong endpoint, bucket or credential fails here,
// with what to set, rather than at the first model.
func Open(ctx context.Context, rawURL string, cfg Config) (*Store, error) {
	getenv := cfg.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.Scheme != "s3" || u.Host == "" || u.RawQuery != "" || u.User != nil {
		return nil, fmt.Errorf("registry %q: %w", rawURL, ErrBadURL)
	}
	prefix := strings.Trim(u.Path, "/")
	if prefix != "" {
		prefix += "/"
	}
	endpoint, secure := "s3.amazonaws.com", true
	if e := firstSet(getenv, "AWS_ENDPOINT_URL_S3", "AWS_ENDPOINT_URL"); e != "" {
		eu, err := url.Parse(e)
		if err != nil || (eu.Scheme != "http" && eu.Scheme != "https") || eu.Host == "" {
			return nil, fmt.Errorf("AWS_ENDPOINT_URL %q: give the store's URL, as http(s)://HOST[:PORT]", e)
		}
		endpoint, secure = eu.Host, eu.Scheme == "https"
	}
	creds := credentials.NewChainCredentials([]credentials.Provider{
		// The environment is read through getenv (tests give their own);
		// the credentials file and the platform's role as the SDKs do.
		&staticEnv{getenv: getenv},
		&credentials.FileAWSCredentials{Filename: getenv("AWS_SHARED_CREDENTIALS_FILE"), Profile: getenv("AWS_PROFILE")},
		&credentials.IAM{},
	})
	client, err := minio.New(endpoint, &minio.Options{
		Creds:     creds,
		Secure:    secure,
		Region:    firstSet(getenv, "AWS_REGION", "AWS_DEFAULT_REGION"),
		Transport: cfg.Transport,
		// Path-style requests: every S3-compatible store answers them,
		// where virtual hosts need DNS for each bucket.
		BucketLookup: minio.BucketLookupPath,
		// Three tries, not the client's ten (about 8 s of backoff): serve's
		// watcher tries again at its next look, and a store that is down
		// is reported in about a second instead of tens of seconds.
		MaxRetries: 3,
	})
	if err != nil {
		return nil, fmt.Errorf("registry %s: %w", rawURL, err)
	}
	s := &Store{client: client, bucket: u.Host, prefix: prefix, url: "s3://" + u.Host + "/" + strings.TrimSuffix(prefix, "/")}
	s.url = strings.TrimSuffix(s.url, "/")
	ok, err := client.BucketExists(ctx, s.bucket)
	if err != nil {
		return nil, fmt.Errorf("registry %s: %w", s.url, describe(err))
	}
	if !ok {
		return nil, fmt.Errorf("registry %s: no bucket %q at %s", s.url, s.bucket, endpoint)
	}
	return s, nil
}

func firstSet(getenv func(string) string, names ...string) string {
	for _, n := range names {
		if v := getenv(n); v != "" {
			return v
		}
	}
	return ""
}

// Location implements models.ObjectStore.
func (s *Store) Location() string { return s.url }

// Get implements models.ObjectStore.
func (s *Store) Get(ctx context.Context, key string) ([]byte, string, error) {
	// One request that returns the content and its ETag together: the
	// Client's object reader stats first and reads after, conditionally,
	// so an alias moved in between fails the read.
	body, info, _, err := minio.Core{Client: s.client}.GetObject(ctx, s.bucket, s.prefix+key, minio.GetObjectOptions{})
	if err != nil {
		return nil, "", s.fail("get", key, err)
	}
	defer body.Close()
	b, err := io.ReadAll(body)
	if err != nil {
		return nil, "", s.fail("get", key, err)
	}
	return b, info.ETag, nil
}

// Put implements models.ObjectStore.
func (s *Store) Put(ctx context.Context, key string, data []byte, cond models.Condition) (string, error) {
	opts := minio.PutObjectOptions{ContentType: "application/octet-stream", DisableMultipart: true, SendContentMd5: true}
	if cond.IfAbsent {
		opts.SetMatchETagExcept("*")
	}
	if cond.IfMatch != "" {
		opts.SetMatchETag(cond.IfMatch)
	}
	info, err := s.client.PutObject(ctx, s.bucket, s.prefix+key, bytes.NewReader(data), int64(len(data)), opts)
	if err != nil {
		return "", s.fail("put", key, err)
	}
	return info.ETag, nil
}

// List implements models.ObjectStore.
func (s *Store) List(ctx context.Context, prefix string) ([]models.ObjectInfo, error) {
	var out []models.ObjectInfo
	for o := range s.client.ListObjects(ctx, s.bucket, minio.ListObjectsOptions{Prefix: s.prefix + prefix, Recursive: true}) {
		if o.Err != nil {
			return nil, s.fail("list", prefix, o.Err)
		}
		out = append(out, models.ObjectInfo{Key: strings.TrimPrefix(o.Key, s.prefix), ETag: o.ETag, Size: o.Size, Modified: o.LastModified})
	}
	return out, nil
}

// Delete implements models.ObjectStore.
func (s *Store) Delete(ctx context.Context, key string) error {
	if err := s.client.RemoveObject(ctx, s.bucket, s.prefix+key, minio.RemoveObjectOptions{}); err != nil {
		return s.fail("delete", key, err)
	}
	return nil
}

// fail turns a client error into one callers can test (fs.ErrNotExist,
// models.ErrPrecondition), naming the object, never the credentials.
func (s *Store) fail(op, key string, err error) error {
	switch minio.ToErrorResponse(err).Code {
	case minio.NoSuchKey:
		return fmt.Errorf("%s %s/%s: %w", op, s.url, key, fs.ErrNotExist)
	case minio.PreconditionFailed, "ConditionalRequestConflict":
		return fmt.Errorf("%s %s/%s: %w", op, s.url, key, models.ErrPrecondition)
	}
	return fmt.Errorf("%s %s/%s: %w", op, s.url, key, describe(err))
}

// describe adds to a refused request what to check.
func describe(err error) error {
	switch minio.ToErrorResponse(err).Code {
	case "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch":
		return fmt.Errorf("%w (check AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or the profile in AWS_PROFILE)", err)
	}
	return err
}

// staticEnv provides the credentials of AWS's variables (or MinIO's), read
// through getenv.
type staticEnv struct {
	getenv func(string) string
}

// Retrieve implements credentials.Provider.
func (e *staticEnv) Retrieve() (credentials.Value, error) {
	id, secret := firstSet(e.getenv, "AWS_ACCESS_KEY_ID", "AWS_ACCESS_KEY"), firstSet(e.getenv, "AWS_SECRET_ACCESS_KEY", "AWS_SECRET_KEY")
	if id == "" {
		id, secret = firstSet(e.getenv, "MINIO_ROOT_USER", "MINIO_ACCESS_KEY"), firstSet(e.getenv, "MINIO_ROOT_PASSWORD", "MINIO_SECRET_KEY")
	}
	if id == "" || secret == "" {
		return credentials.Value{SignerType: credentials.SignatureAnonymous}, errors.New("no credentials in the environment")
	}
	return credentials.Value{AccessKeyID: id, SecretAccessKey: secret, SessionToken: e.getenv("AWS_SESSION_TOKEN"), SignerType: credentials.SignatureV4}, nil
}

// RetrieveWithCredContext implements credentials.Provider.
func (e *staticEnv) RetrieveWithCredContext(*credentials.CredContext) (credentials.Value, error) {
	return e.Retrieve()
}

// IsExpired implements credentials.Provider: the environment does not
// change under a running process.
func (e *staticEnv) IsExpired() bool { return false }
