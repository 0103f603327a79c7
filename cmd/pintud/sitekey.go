package main

import (
	"log/slog"
	"path/filepath"

	"github.com/pintu/pintu/controller/bundle"
)

// siteKey loads the key that signs export bundles, creating it in the
// state directory (mode 0600) on the first start.
func siteKey(stateDir string, log *slog.Logger) (*bundle.Key, error) {
	path := filepath.Join(stateDir, bundle.KeyFile)
	k, created, err := bundle.LoadOrCreateKey(path)
	if err != nil {
		return nil, err
	}
	if created {
		log.Info("created the site key that signs export bundles; `pintuctl site key` shows its public half",
			"path", path, "key_id", k.Public().IDString())
	}
	return k, nil
}
