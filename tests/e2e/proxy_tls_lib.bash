# Helpers for the TLS and HTTP/2 end-to-end tests of tapedeck-proxy (source after proxy_lib.bash).

px_mkcert() { # dir name [CN]: a self-signed certificate for localhost and 127.0.0.1 -> dir/name.{crt,key}
  local dir=$1 name=$2 cn=${3:-localhost}
  openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 -keyout "$dir/$name.key" -out "$dir/$name.crt" \
    -subj "/CN=$cn" -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" 2>/dev/null \
    || td_fail "openssl could not make a test certificate"
}

px_fingerprint() { # port: SHA-256 fingerprint of the certificate a new TLS handshake on it presents
  openssl s_client -connect "127.0.0.1:$1" -servername localhost </dev/null 2>/dev/null \
    | openssl x509 -noout -fingerprint -sha256 | cut -d= -f2
}
