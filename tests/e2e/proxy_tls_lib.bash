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

px_mkca() { # dir: a test CA -> dir/ca.{crt,key}
  openssl req -x509 -newkey rsa:2048 -nodes -sha256 -days 2 -keyout "$1/ca.key" -out "$1/ca.crt" \
    -subj "/CN=tapedeck test CA" -addext "basicConstraints=critical,CA:true" \
    -addext "keyUsage=critical,keyCertSign,cRLSign" 2>/dev/null || td_fail "openssl could not make a test CA"
}

px_mkleaf() { # dir name SAN: a certificate signed by dir/ca for SAN (e.g. DNS:localhost) -> dir/name.{crt,key}
  local dir=$1 name=$2 san=$3
  openssl req -newkey rsa:2048 -nodes -sha256 -keyout "$dir/$name.key" -out "$dir/$name.csr" -subj "/CN=$name" \
    2>/dev/null || td_fail "openssl: no CSR"
  printf 'subjectAltName=%s\nbasicConstraints=CA:false\nextendedKeyUsage=serverAuth\n' "$san" >"$dir/$name.ext"
  openssl x509 -req -in "$dir/$name.csr" -CA "$dir/ca.crt" -CAkey "$dir/ca.key" -CAcreateserial -days 2 -sha256 \
    -extfile "$dir/$name.ext" -out "$dir/$name.crt" 2>/dev/null || td_fail "openssl: could not sign $name"
}
