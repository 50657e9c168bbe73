"The course's checks, one module per notebook whose exercises they check; the library never imports them."
