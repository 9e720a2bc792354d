package web

import (
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"io/fs"
	"mime"
	"net/http"
	"path"
	"strings"
)

//go:embed assets
var assetFS embed.FS

// asset is one embedded file served under a name that carries its content hash, so a
// browser may keep it for a year and still gets the new file the moment it changes.
type asset struct {
	body        []byte
	contentType string
}

// assets maps each file's versioned path (/assets/style.3f2a1c9e0b.css) to its body,
// and each plain name (style.css) to its versioned path for templates.
type assets struct {
	byPath map[string]asset
	urls   map[string]string
}

func loadAssets() (*assets, error) {
	a := &assets{byPath: map[string]asset{}, urls: map[string]string{}}
	err := fs.WalkDir(assetFS, "assets", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := assetFS.ReadFile(p)
		if err != nil {
			return fmt.Errorf("read asset %s: %w", p, err)
		}
		sum := sha256.Sum256(body)
		name := strings.TrimPrefix(p, "assets/")
		ext := path.Ext(name)
		versioned := "/assets/" + strings.TrimSuffix(name, ext) + "." + hex.EncodeToString(sum[:5]) + ext
		ct := mime.TypeByExtension(ext)
		if ct == "" {
			ct = "application/octet-stream"
		}
		a.byPath[versioned] = asset{body: body, contentType: ct}
		a.urls[name] = versioned
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("load page assets: %w", err)
	}
	return a, nil
}

// URL is the versioned path of an embedded asset, for templates: {{asset "style.css"}}.
func (a *assets) URL(name string) (string, error) {
	u, ok := a.urls[name]
	if !ok {
		return "", fmt.Errorf("no asset %q", name)
	}
	return u, nil
}

// serve answers /assets/...; an old or unknown version is a 404, never a stale file
// cached for a year.
func (a *assets) serve(w http.ResponseWriter, r *http.Request) {
	f, ok := a.byPath[r.URL.Path]
	if !ok {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", f.contentType)
	h.Set("Cache-Control", "public, max-age=31536000, immutable")
	h.Set("X-Content-Type-Options", "nosniff")
	_, _ = w.Write(f.body)
}
