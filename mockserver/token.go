package mockserver

import "strings"

// ParseToken parses the value of a --token flag: "TOKEN" is a token for
// [DefaultTenant] and "TOKEN=TENANT" a token for the named tenant.
//
// The split is at the last "=", so a token may hold "=" when a tenant is
// named. A value that ends in "=" is taken whole as a token for DefaultTenant,
// so that base64 tokens with padding work unchanged. Errors never include the
// token.
func ParseToken(flag string) (token, tenant string, err error) {
	token, tenant = flag, DefaultTenant
	if i := strings.LastIndexByte(flag, '='); i >= 0 && i < len(flag)-1 {
		token, tenant = flag[:i], flag[i+1:]
	}

	if err := checkToken(token); err != nil {
		return "", "", err
	}
	if err := checkTenant(tenant); err != nil {
		return "", "", err
	}
	return token, tenant, nil
}
