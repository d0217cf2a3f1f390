package identity_test

import (
	"testing"

	"github.com/glint-image/glint/internal/identity"
)

// BenchmarkValidateToken is the check every API request with a token
// makes: verify the signature, look up revocations, load the user,
// project and roles ("store"), or find a validation of the last few
// seconds ("cached").
func BenchmarkValidateToken(b *testing.B) {
	e := setup(b)
	tok := e.mustLogin(b, "admin", adminPassword, adminScope)
	uncached, err := identity.NewService(e.store, identity.Config{Key: testKey, Now: e.clock.Now, PasswordCost: 4, TokenCacheTTL: -1})
	if err != nil {
		b.Fatal(err)
	}
	for name, svc := range map[string]*identity.Service{"cached": e.svc, "store": uncached} {
		b.Run(name, func(b *testing.B) {
			b.ReportAllocs()
			for range b.N {
				if _, err := svc.ValidateToken(b.Context(), tok.ID); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
