"""What perftest measures of THE_BOT, whichever project serves it (see shared/thebot-api.md).

The seven endpoints of the original report, the login (email and password, token at
``data.token``) and the student role. The seeder is not here: it creates rows of the models
of whatever serves the API (the stand-in's own seeder in the embedded project; the platform's
seeder, named in its settings, when perftest is layered over THE_BOT's backend).
"""

THEBOT_PERFTEST = {
    "ENDPOINTS": [
        {"name": "Login", "method": "POST", "path": "/api/auth/login/", "expected_status": 200},
        {
            "name": "Get Profile",
            "method": "GET",
            "path": "/api/profile/me/",
            "expected_status": 200,
        },
        {
            "name": "Get Lessons",
            "method": "GET",
            "path": "/api/scheduling/lessons/",
            "expected_status": 200,
        },
        {
            "name": "Get Assignments",
            "method": "GET",
            "path": "/api/assignments/",
            "expected_status": 200,
        },
        {
            "name": "Get Conversations",
            "method": "GET",
            "path": "/api/chat/conversations/",
            "expected_status": 200,
        },
        {
            "name": "Get Materials",
            "method": "GET",
            "path": "/api/materials/",
            "expected_status": 200,
        },
        {
            "name": "Get Notifications",
            "method": "GET",
            "path": "/api/notifications/",
            "expected_status": 200,
        },
    ],
    "LOGIN": {
        "PATH": "/api/auth/login/",
        "BODY": {"email": "{email}", "password": "{password}"},
        "TOKEN_PATH": "data.token",
    },
    "IDENTITY": {"FIELDS": {"role": "student"}},
}
