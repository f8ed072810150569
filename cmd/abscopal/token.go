package main

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"

	"github.com/abscopal/abscopal/api"
	"github.com/spf13/cobra"
)

// tokenBytes is the randomness of a token made by abscopal token: 256 bits,
// beyond any search of its SHA-256 digest, which is why the tokens file may
// hold the digest alone.
const tokenBytes = 32

// madeToken is what "abscopal token --json" prints.
type madeToken struct {
	Token string `json:"token"`
	Line  string `json:"tokens_file_line"`
}

// newTokenCmd makes a bearer token for a client of the API and the line of
// the tokens file that admits it, which holds its digest, not the token.
func newTokenCmd(stdout io.Writer) *cobra.Command {
	var (
		client  string
		jsonOut bool
	)
	cmd := &cobra.Command{
		Use:   "token [--client NAME] [--json]",
		Short: "Make a bearer token for an API client, and the tokens-file line that admits it by its digest",
		Long: `token makes a bearer token for a client of abscopal serve: 256 random bits
(crypto/rand) in hex, to give to the client, and the line to add to the
server's --tokens-file (or ABSCOPAL_TOKENS), "NAME sha256:DIGEST", which holds
the token's SHA-256 digest only. The server compares the digest of the
token a request bears, so a copy of the tokens file, a backup or a leaked
configuration, admits no one. The token is shown once: abscopal keeps it
nowhere.`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if client != "" {
				if err := api.CheckClientName(client); err != nil {
					return usageError{fmt.Errorf("--client: %w", err)}
				}
			}
			b := make([]byte, tokenBytes)
			if _, err := rand.Read(b); err != nil {
				return fmt.Errorf("token: %w", err)
			}
			token := hex.EncodeToString(b)
			digest := sha256.Sum256([]byte(token))
			line := tokenDigestPrefix + hex.EncodeToString(digest[:])
			if client != "" {
				line = client + " " + line
			}
			if jsonOut {
				enc := json.NewEncoder(stdout)
				enc.SetIndent("", "  ")
				return enc.Encode(madeToken{token, line})
			}
			_, err := fmt.Fprintf(stdout, "token (give it to the client; abscopal keeps only its digest):\n%s\n\nline for --tokens-file (or ABSCOPAL_TOKENS):\n%s\n", token, line)
			return err
		},
	}
	cmd.Flags().StringVar(&client, "client", "", "the client's name, which the request log and /metrics give for its requests")
	cmd.Flags().BoolVar(&jsonOut, "json", false, "print the token and the line as JSON, for a provisioning script")
	return cmd
}
