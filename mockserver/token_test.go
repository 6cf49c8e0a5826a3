package mockserver_test

import (
	"strings"
	"testing"

	"github.com/prefect-go/cloudsecrets/mockserver"
)

func TestParseToken(t *testing.T) {
	tests := []struct {
		name       string
		flag       string
		wantToken  string
		wantTenant string
		wantErr    string
	}{
		{name: "bare token is for the default tenant", flag: "abc", wantToken: "abc", wantTenant: "default"},
		{name: "token with a tenant", flag: "abc=team-a", wantToken: "abc", wantTenant: "team-a"},
		{name: "split at the last equals sign", flag: "a=b=team", wantToken: "a=b", wantTenant: "team"},
		{name: "base64 padding stays in the token", flag: "YWJj==", wantToken: "YWJj==", wantTenant: "default"},
		{name: "empty", flag: "", wantErr: "token is empty"},
		{name: "empty token before a tenant", flag: "=team", wantErr: "token is empty"},
		{name: "token with a space", flag: "a b=team", wantErr: "token holds a space or control character"},
		{name: "tenant with a control character", flag: "secret-tok=te\x01am", wantErr: "tenant name holds a control character"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			token, tenant, err := mockserver.ParseToken(tt.flag)

			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "secret-tok") {
					t.Errorf("error quotes the token: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if token != tt.wantToken || tenant != tt.wantTenant {
				t.Errorf("got (%q, %q), want (%q, %q)", token, tenant, tt.wantToken, tt.wantTenant)
			}
		})
	}
}
