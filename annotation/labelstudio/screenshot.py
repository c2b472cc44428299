"""A screenshot of Label Studio's labeling view in headless Chromium, for the README.

    python -m annotation.labelstudio.screenshot --url http://127.0.0.1:8080 --project "gazette-ner" -o docs.png

Logs in as LABEL_STUDIO_USERNAME / LABEL_STUDIO_PASSWORD through the login form, opens the project's
first task and saves the page. Needs Debian's chromium and chromium-driver and `pip install selenium`.
"""
from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path


def screenshot(url: str, username: str, password: str, project: int, task: int, output: Path) -> Path:
    from selenium import webdriver
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as ready
    from selenium.webdriver.support.ui import WebDriverWait

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--window-size=1400,900", "--lang=zh-CN"):
        options.add_argument(flag)
    driver = webdriver.Chrome(service=webdriver.ChromeService("/usr/bin/chromedriver"), options=options)
    try:
        driver.get(f"{url}/user/login/")
        driver.find_element(By.NAME, "email").send_keys(username)
        driver.find_element(By.NAME, "password").send_keys(password)
        driver.find_element(By.CSS_SELECTOR, "button[type=submit], input[type=submit]").click()
        WebDriverWait(driver, 60).until(lambda d: "/user/login" not in d.current_url)
        driver.get(f"{url}/projects/{project}/data?task={task}")
        WebDriverWait(driver, 120).until(ready.presence_of_element_located((By.CSS_SELECTOR, "[class*=htx-highlight]")))
        time.sleep(3)  # let fonts and region colours settle
        output.parent.mkdir(parents=True, exist_ok=True)
        driver.save_screenshot(str(output))
    finally:
        driver.quit()
    return output


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default=os.environ.get("LABEL_STUDIO_URL", "http://127.0.0.1:8080"))
    parser.add_argument("--project", type=int, required=True, help="project id")
    parser.add_argument("--task", type=int, required=True, help="task id")
    parser.add_argument("-o", "--output", type=Path, required=True)
    args = parser.parse_args()
    user, password = os.environ.get("LABEL_STUDIO_USERNAME"), os.environ.get("LABEL_STUDIO_PASSWORD")
    if not user or not password:
        print("error: set LABEL_STUDIO_USERNAME and LABEL_STUDIO_PASSWORD", file=sys.stderr)
        return 1
    print(screenshot(args.url, user, password, args.project, args.task, args.output))
    return 0


if __name__ == "__main__":
    sys.exit(main())
