// Package docs holds abscopal's guides (Markdown) and its notebook. It has
// no code of its own: its tests run every shell command that README.md and
// the guides show, and execute the notebook, so that the documentation
// cannot drift from the binary.
//
// A guide marks each shell block by its fence:
//
//	```sh           run; it must exit 0
//	```sh fails     run; it must exit non-zero (an error the guide shows)
//	```sh serve     started in the background; the next blocks run once
//	                http://127.0.0.1:8080/readyz answers 200, and it is
//	                stopped (SIGINT; it must exit 0) at the next serve
//	                block or when the guide's blocks are done
//	```sh s3        run, on a registry in object storage: the tests' S3
//	                server (SeaweedFS, see internal/testkit/s3test) with a
//	                bucket "models", its endpoint and test credentials in
//	                the environment; skipped without the server, unless
//	                ABSCOPAL_REQUIRE_S3 is set (CI), when that fails
//	```sh example   shown only, never run (the text says why: Docker, a
//	                file of the reader's own, a long run)
//
// Each guide runs in its own temporary directory, its blocks in order, with
// the freshly built abscopal first on PATH, the repository's examples/
// directory beside them, `go run ./cmd/abscopal` standing for that binary,
// and port 8080 replaced by a free one (a serve block that names no port is
// given --addr with it).
package docs
